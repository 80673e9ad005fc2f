"""What the law asks of a recall's definition before anyone is told of it.

- GPSR (Regulation (EU) 2023/988) art. 37: the consumer is offered a choice of at least two
  remedies (repair, replacement, refund) unless only one is possible, which is then said.
- The European Commission's recall-notice template: no words that play the danger down
  ("voluntary", "precautionary", "in rare situations" ...); the list is the retailer's to
  extend (templates/definition/minimising-words.txt).
- Art. 36 and the template: the notice says what the hazard is, which product it is, and whom
  to contact.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from recall.domain.definition import FieldError

# The texts a notice is made of, as the definition holds them.
_WORDED = ("title", "product_name", "risk", "single_remedy_reason")


def legal_problems(
    raw: Mapping[str, Any], minimising: Iterable[str], *, retailer_hotline: str = ""
) -> list[FieldError]:
    """Every way the definition falls short of the law, each with the field at fault; the
    retailer's own hotline is the contact of a recall that names none."""
    problems = _required({"hotline": retailer_hotline, **{k: v for k, v in raw.items() if v}})
    remedies = raw.get("remedies")
    single_reason = str(raw.get("single_remedy_reason") or "").strip()
    if isinstance(remedies, list) and len(set(remedies)) < 2 and not single_reason:
        problems.append(FieldError(
            "remedies", "offer the customer a choice of at least two remedies (GPSR art. 37), "
            "or say why only one is possible in single_remedy_reason",
        ))  # fmt: skip
    patterns = [(word, _phrase(word)) for word in minimising]
    for name, text in _texts(raw):
        found = [word for word, pattern in patterns if pattern.search(_plain(text))]
        if found:
            problems.append(FieldError(
                name, f"plays the danger down ({', '.join(repr(w) for w in found)}): the "
                "recall-notice template forbids such words; say plainly what the risk is",
            ))  # fmt: skip
    return problems


def read_word_list(text: str) -> list[str]:
    """The words of a list file: one per line, blank lines and # comments left out."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _required(raw: Mapping[str, Any]) -> list[FieldError]:
    wanted = {
        "risk": "is required: the hazard in plain words, for the letters and notices",
        "product_name": "is required: the product as the customer knows it (name, model)",
        "hotline": "is required (or a hotline in retailer.yaml): the number customers call",
    }
    return [FieldError(name, why) for name, why in wanted.items() if not _given(raw.get(name))]


def _given(value: Any) -> bool:
    if isinstance(value, Mapping):
        return any(_given(v) for v in value.values())
    return value is not None and str(value).strip() != ""


def _texts(raw: Mapping[str, Any]) -> Iterable[tuple[str, str]]:
    for name in _WORDED:
        value = raw.get(name)
        if isinstance(value, Mapping):
            yield from ((f"{name}.{lang}", str(text)) for lang, text in value.items())
        elif value is not None:
            yield name, str(value)


def _plain(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _phrase(word: str) -> re.Pattern[str]:
    """The word or phrase alone (not inside a longer word), whatever the spaces between."""
    parts = [re.escape(part) for part in _plain(word).split()]
    return re.compile(r"(?<!\w)" + r"\s+".join(parts) + r"(?!\w)")
