"""Letter, poster and press-notice templates that the quality lead edits as text files.

A template is a text file of `[sections]`, each a Jinja2 text with `{{ placeholders }}`,
`**bold**`, `# headings` and `- bullets`. Every section is checked when the templates are
loaded: a syntax error, an unknown placeholder or a missing section names the file and line.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2 import meta

from recall.domain.errors import Refused
from recall.domain.letters import (
    LETTER_SECTIONS,
    NOTICE_FIELDS,
    PERSONAL_FIELDS,
    POSTER_SECTIONS,
    PRESS_SECTIONS,
    RECALL_FIELDS,
)

_SECTION = re.compile(r"^\[([a-z_]+)\]\s*$")
_COMMENT = re.compile(r"\{#.*?#\}", re.S)
_KINDS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "letter": (LETTER_SECTIONS, PERSONAL_FIELDS | RECALL_FIELDS),
    "poster": (POSTER_SECTIONS, RECALL_FIELDS | NOTICE_FIELDS | {"lots"}),
    "press": (PRESS_SECTIONS, RECALL_FIELDS | NOTICE_FIELDS | {"lots"}),
}
_ENV = jinja2.Environment(
    undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False
)


class TemplateProblem(Refused):
    """A template that can't be used; the message names the file, and the line when known."""


@dataclass(frozen=True)
class Section:
    name: str
    template: jinja2.Template
    personal: bool  # uses a field that differs between customers


@dataclass
class Template:
    """One template file of one kind (letter, poster, press) in one language."""

    path: Path
    kind: str
    language: str
    version: str
    sections: dict[str, Section]
    remedy_labels: dict[str, str] = field(default_factory=dict)

    def render(self, section: str, context: dict[str, Any]) -> str:
        try:
            return self.sections[section].template.render(context).strip()
        except jinja2.UndefinedError as exc:  # a field the code did not supply: a bug, named
            raise TemplateProblem(f"{self.path} [{section}]: {exc.message}") from None

    def remedies(self, names: tuple[str, ...]) -> list[str]:
        """The labels of the recall's remedies, in the recall's order."""
        missing = [n for n in names if n not in self.remedy_labels]
        if missing:
            raise TemplateProblem(
                f"{self.path}: the [remedies] section has no label for {', '.join(missing)}"
            )
        return [self.remedy_labels[n] for n in names]


@dataclass
class Retailer:
    """The sender: templates/letters/retailer.yaml."""

    values: dict[str, Any]
    digest: str

    def get(self, name: str, language: str) -> str:
        """A field, in the language asked when the file gives one text per language."""
        value = self.values.get(name, "")
        if isinstance(value, dict):
            return str(value.get(language) or next(iter(value.values()), ""))
        if isinstance(value, list):
            return "\n".join(str(v) for v in value)
        return str(value)


class TemplateSet:
    """All templates of one folder; asks fall back to the home language when one is missing."""

    def __init__(self, folder: Path, home_language: str = "fr") -> None:
        self.folder, self.home_language = folder, home_language
        self.retailer = _load_retailer(folder / "retailer.yaml")
        self._cache: dict[tuple[str, str], Template | None] = {}
        for kind in _KINDS:
            if self.find(kind, home_language) is None:
                raise TemplateProblem(
                    f"{folder / f'{kind}.{home_language}.txt'}: no {kind} template for the "
                    f"home language '{home_language}'; every recall needs one"
                )

    def find(self, kind: str, language: str) -> Template | None:
        """The template of `kind` in `language`, or None when there is no such file."""
        key = (kind, language)
        if key not in self._cache:
            path = self.folder / f"{kind}.{language}.txt"
            self._cache[key] = load_template(path, kind, self.retailer) if path.is_file() else None
        return self._cache[key]

    def get(self, kind: str, language: str) -> Template:
        """The template in `language`, else in the home language."""
        found = self.find(kind, language) or self.find(kind, self.home_language)
        assert found is not None  # checked in __init__
        return found

    def languages(self, kind: str) -> list[str]:
        return sorted(p.name.split(".")[1] for p in self.folder.glob(f"{kind}.*.txt"))


def load_template(path: Path, kind: str, retailer: Retailer) -> Template:
    """Read and check one template file."""
    required, allowed = _KINDS[kind]
    text = path.read_text(encoding="utf-8")
    raw_sections = _split(path, text)
    missing = [name for name in required if name not in raw_sections]
    unknown = [name for name in raw_sections if name not in (*required, "remedies")]
    if missing or unknown:
        problems = [f"missing section(s) {', '.join(f'[{m}]' for m in missing)}"] if missing else []
        problems += (
            [f"unknown section(s) {', '.join(f'[{u}]' for u in unknown)}"] if unknown else []
        )
        raise TemplateProblem(f"{path}: {'; '.join(problems)} (expected {', '.join(required)})")
    sections = {
        name: _compile(path, name, line, body, allowed)
        for name, (line, body) in raw_sections.items()
        if name != "remedies"
    }
    labels = _remedy_labels(path, *raw_sections.get("remedies", (0, "")))
    version = hashlib.sha256(text.encode() + retailer.digest.encode()).hexdigest()[:12]
    return Template(path, kind, path.name.split(".")[1], version, sections, labels)


def _split(path: Path, text: str) -> dict[str, tuple[int, str]]:
    """{section: (line number of its first body line, body)}."""
    sections: dict[str, tuple[int, list[str]]] = {}
    preamble: list[str] = []
    current = preamble
    for number, line in enumerate(text.splitlines(), start=1):
        found = _SECTION.match(line)
        if not found:
            current.append(line)
            continue
        if found[1] in sections:
            raise TemplateProblem(f"{path}:{number}: section [{found[1]}] appears twice")
        current = []
        sections[found[1]] = (number + 1, current)
    if _COMMENT.sub("", "\n".join(preamble)).strip():
        raise TemplateProblem(f"{path}: text before the first [section] (only a {{# comment #}})")
    return {name: (start, "\n".join(lines)) for name, (start, lines) in sections.items()}


def _compile(path: Path, name: str, line: int, body: str, allowed: frozenset[str]) -> Section:
    try:
        tree = _ENV.parse(body)
    except jinja2.TemplateSyntaxError as exc:
        where = line + (exc.lineno or 1) - 1
        raise TemplateProblem(f"{path}:{where}: [{name}]: {exc.message}") from None
    used = meta.find_undeclared_variables(tree)
    unknown = sorted(used - allowed)
    if unknown:
        names = ", ".join("{{ " + u + " }}" for u in unknown)
        raise TemplateProblem(
            f"{path}: section [{name}] uses unknown placeholder(s) {names}; "
            f"known: {', '.join(sorted(allowed))}"
        )
    return Section(name, _ENV.from_string(body), personal=bool(used & PERSONAL_FIELDS))


def _remedy_labels(path: Path, line: int, body: str) -> dict[str, str]:
    labels = {}
    for offset, text in enumerate(body.splitlines()):
        if not text.strip():
            continue
        key, sep, label = text.partition(":")
        if not sep or not label.strip():
            raise TemplateProblem(f"{path}:{line + offset}: [remedies] lines read 'refund: label'")
        labels[key.strip()] = label.strip()
    return labels


def _load_retailer(path: Path) -> Retailer:
    if not path.is_file():
        raise TemplateProblem(f"{path}: missing; it names the sender of the letters")
    raw = path.read_bytes()
    try:
        values = yaml.safe_load(raw) or {}
    except yaml.YAMLError as exc:
        raise TemplateProblem(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(values, dict) or not values.get("name"):
        raise TemplateProblem(f"{path}: must give at least the retailer's name")
    return Retailer(values, hashlib.sha256(raw).hexdigest())
