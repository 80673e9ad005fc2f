"""Every message of recall is said in French and in English: the English is the message id,
the French is in a catalogue, whole, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from recall import i18n

ROOT = Path(__file__).resolve().parents[1]
KEYWORDS = {**DEFAULT_KEYWORDS, "translate": (2,)}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{(\w+)\}")


def said_in_sources() -> dict[str | tuple[str, ...], str]:
    """Each message id of the code and the console's pages, with where it is said."""
    found: dict[str | tuple[str, ...], str] = {}
    sources = [(ROOT / "recall", [("**.py", "python")], {}),
               (ROOT / "templates" / "pages", [("**.html", "jinja2")],
                {"**.html": {"extensions": "jinja2.ext.i18n"}})]  # fmt: skip
    for folder, method_map, options in sources:
        for path, line, message, _comments, _context in extract_from_dir(
            folder, method_map, options_map=options, keywords=KEYWORDS
        ):
            message = tuple(m for m in message if m) if isinstance(message, tuple) else message
            if message:
                found.setdefault(message, f"{folder.name}/{path}:{line}")
    return found


def french_catalogues():
    for path in i18n.catalogue_files("fr"):
        with path.open("rb") as handle:
            yield path, read_po(handle, locale="fr")


def test_the_sources_say_many_messages():
    assert len(said_in_sources()) > 550  # the extraction still finds them all


def test_every_message_said_has_its_french():
    translated = {}
    for _path, catalog in french_catalogues():
        for message in catalog:
            if message.id and not message.fuzzy:
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                if all(strings):
                    key = message.id if isinstance(message.id, str) else tuple(message.id)
                    translated[key] = strings
    missing = {m: where for m, where in said_in_sources().items() if m not in translated}
    assert missing == {}


def test_french_keeps_every_placeholder_and_each_plural_form():
    wrong = []
    for path, catalog in french_catalogues():
        assert catalog.num_plurals == 2 or "nplurals=3" in (catalog.plural_forms or "")
        for message in catalog:
            if not message.id:
                continue
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if not all(strings) or message.fuzzy:
                wrong.append((path.name, ids[0], "not translated"))
                continue
            wanted = {p for p in PLACEHOLDER.findall(ids[-1])}
            wrong += [(path.name, ids[0], s) for s in strings
                      if {p for p in PLACEHOLDER.findall(s)} - wanted]  # fmt: skip
            if len(ids) == 1 and {p for p in PLACEHOLDER.findall(strings[0])} != wanted:
                wrong.append((path.name, ids[0], strings[0]))
    assert wrong == []


def test_a_message_id_lives_in_one_catalogue_only():
    seen: dict[object, str] = {}
    twice = []
    for path, catalog in french_catalogues():
        for message in catalog:
            key = message.id if isinstance(message.id, str) else tuple(message.id)
            if message.id and key in seen:
                twice.append((key, seen[key], path.name))
            seen[key] = path.name
    assert twice == []


def test_plurals_follow_each_language():
    """French says "0 dossier, 1 dossier, 2 dossiers"; English "0 cases, 1 case, 2 cases"."""
    n_fr, n_en = i18n.ngettext_for("fr"), i18n.ngettext_for("en")
    plurals = [m for _p, c in french_catalogues() for m in c if isinstance(m.id, (tuple, list))]
    assert plurals
    for message in plurals:
        one, many = message.id
        assert n_en(one, many, 0) == many and n_en(one, many, 1) == one
        assert n_fr(one, many, 0) == n_fr(one, many, 1) == message.string[0]
        assert n_fr(one, many, 2) == message.string[-1] != message.string[0]


def test_every_script_and_letter_is_written_in_both_languages_with_the_same_fields():
    """Scripts, letters and notices are whole texts per language (validated as written), not
    catalogue messages: each has its French and its English, asking for the same fields."""
    field = re.compile(r"\{(\w+)\}")
    for folder in ("scripts", "letters"):
        for french in (ROOT / "templates" / folder).glob("*.fr.txt"):
            english = french.with_name(french.name.replace(".fr.", ".en."))
            assert english.exists(), english.name
            said_fr = set(field.findall(french.read_text(encoding="utf-8")))
            said_en = set(field.findall(english.read_text(encoding="utf-8")))
            assert said_fr == said_en, french.name
