"""Registering a recall definition: loaded from YAML, validated, stored once per id."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session

from recall.clock import Clock, utc_now
from recall.db.models import Recall
from recall.domain.definition import (
    FieldError,
    InvalidDefinition,
    RecallDefinition,
)
from recall.domain.definition_law import read_word_list
from recall.domain.definition_parsing import parse_definition
from recall.domain.errors import RecallNotFound
from recall.settings import PROJECT_TEMPLATES

# A definition is a page of YAML: anything larger, deeper or with aliases is not one, and a
# 1 KiB "billion laughs" of aliases would otherwise expand to gigabytes.
MAX_DEFINITION_BYTES = 256 * 1024
MAX_DEPTH = 20


class _DefinitionLoader(yaml.SafeLoader):
    """Safe YAML as a definition needs it: dates left as text (a bad one becomes a field
    error of ours, not a crash), no aliases, a bounded depth, and no key given twice."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            raise _refused(self.peek_event(), "aliases (*name) are not allowed here")
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _refused(self.peek_event(), f"nested deeper than {MAX_DEPTH} levels")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool):
                continue
            line = key_node.start_mark.line + 1
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{key!r} is given twice (lines {seen[key]} and {line})",
                    key_node.start_mark,
                )  # fmt: skip
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


def _refused(event: yaml.Event, problem: str) -> yaml.composer.ComposerError:
    return yaml.composer.ComposerError(None, None, problem, event.start_mark)  # type: ignore[arg-type]


_DefinitionLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


MINIMISING_WORDS = Path("definition") / "minimising-words.txt"


def minimising_words(templates_dir: Path = PROJECT_TEMPLATES) -> list[str]:
    """The words a recall notice must not use, as the retailer keeps them in its templates."""
    listed = templates_dir / MINIMISING_WORDS
    if not listed.exists():  # a templates folder of an earlier version: the shipped list
        listed = PROJECT_TEMPLATES / MINIMISING_WORDS
    return read_word_list(listed.read_text(encoding="utf-8"))


def load_definition(
    path: Path | str, *, templates_dir: Path = PROJECT_TEMPLATES
) -> tuple[RecallDefinition, dict]:
    """Read and validate a recall YAML file, held to what the law asks of a recall notice;
    errors name the file and each field."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_DEFINITION_BYTES:
            too_large = f"larger than {MAX_DEFINITION_BYTES // 1024} KiB"
            raise InvalidDefinition([FieldError("(file)", too_large)], str(path))
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_DefinitionLoader)
    except FileNotFoundError:
        raise InvalidDefinition([FieldError("(file)", "no such file")], str(path)) from None
    except UnicodeDecodeError:
        raise InvalidDefinition([FieldError("(file)", "is not UTF-8 text")], str(path)) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}: " if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidDefinition([FieldError("(yaml)", f"{line}{problem}")], str(path)) from None
    words, hotline = minimising_words(templates_dir), _hotline(templates_dir)
    if isinstance(raw, dict) and isinstance(raw.get("image"), str) and raw["image"].strip():
        raw["image"] = _photo(path, raw["image"].strip())
    return parse_definition(raw, str(path), minimising=words, retailer_hotline=hotline), raw


def _photo(definition: Path, image: str) -> str:
    """The product photo's path, read beside the definition file when relative."""
    found = (definition.parent / image).resolve()
    if not found.is_file():
        problem = FieldError("image", f"no such file: {found}")
        raise InvalidDefinition([problem], str(definition))
    return str(found)


def _hotline(templates_dir: Path) -> str:
    """The retailer's hotline (templates/letters/retailer.yaml), the contact of a recall that
    names none."""
    try:
        retailer = yaml.safe_load((templates_dir / "letters" / "retailer.yaml").read_text("utf-8"))
    except (OSError, yaml.YAMLError):
        return ""
    return str(retailer.get("hotline") or "") if isinstance(retailer, dict) else ""


def register_recall(
    *, engine: Engine, definition: RecallDefinition, raw: dict, clock: Clock = utc_now
) -> bool:
    """Store the recall; True if new. Launching an existing id again keeps its launch date."""
    stored = json.dumps(raw, default=str, ensure_ascii=False, sort_keys=True)
    with Session(engine) as session, session.begin():
        recall = session.get(Recall, definition.id)
        if recall is None:
            session.add(
                Recall(
                    id=definition.id,
                    title=definition.title,
                    hazard=definition.hazard,
                    definition=stored,
                    launched_at=clock(),
                )
            )
            return True
        recall.title, recall.hazard, recall.definition = definition.title, definition.hazard, stored
        return False


def get_definition(*, engine: Engine, recall_id: str) -> RecallDefinition:
    """The stored definition of a launched recall."""
    with Session(engine) as session:
        return definition_of(session, recall_id)


_STORED = select(Recall.definition).where(Recall.id == bindparam("recall_id"))
_READ = "recall.definitions"  # the session's definitions read so far, by recall id


def definition_of(session: Session, recall_id: str) -> RecallDefinition:
    """A launched recall's definition, parsed once per process for each stored version."""
    read = session.info.setdefault(_READ, {})  # once per session: a call asks it often
    if recall_id not in read:
        stored = session.connection().scalar(_STORED, {"recall_id": recall_id})
        if stored is None:
            raise RecallNotFound(recall_id)
        read[recall_id] = _parsed(recall_id, stored)
    return read[recall_id]


def known_definition(session: Session, recall_id: str, stored: str) -> RecallDefinition:
    """A recall's definition read with other rows in this session: `definition_of` then
    reads it no more."""
    read = session.info.setdefault(_READ, {})
    read[recall_id] = _parsed(recall_id, stored)
    return read[recall_id]


def stored_definition(recall: Recall) -> RecallDefinition:
    """The definition of a recall row read already."""
    return _parsed(recall.id, recall.definition)


@lru_cache(maxsize=64)
def _parsed(recall_id: str, stored: str) -> RecallDefinition:
    return parse_definition(json.loads(stored), f"recall {recall_id}")
