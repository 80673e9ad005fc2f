"""Registering a recall definition: loaded from YAML, validated, stored once per id."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import yaml
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.clock import Clock, utc_now
from recall.db.models import Recall
from recall.domain.definition import (
    FieldError,
    InvalidDefinition,
    RecallDefinition,
    parse_definition,
)


class _TextDatesLoader(yaml.SafeLoader):
    """Leaves dates as text, so that a bad one becomes a field error of ours, not a crash."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_definition(path: Path | str) -> tuple[RecallDefinition, dict]:
    """Read and validate a recall YAML file; errors name the file and each field."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDatesLoader)
    except FileNotFoundError:
        raise InvalidDefinition([FieldError("(file)", "no such file")], str(path)) from None
    except UnicodeDecodeError:
        raise InvalidDefinition([FieldError("(file)", "is not UTF-8 text")], str(path)) from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f"line {where.line + 1}: " if where else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise InvalidDefinition([FieldError("(yaml)", f"{line}{problem}")], str(path)) from None
    return parse_definition(raw, str(path)), raw


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


def definition_of(session: Session, recall_id: str) -> RecallDefinition:
    """A launched recall's definition, parsed once per process for each stored version."""
    stored = session.scalar(select(Recall.definition).where(Recall.id == recall_id))
    if stored is None:
        raise LookupError(f"no recall {recall_id!r} has been launched")
    return _parsed(recall_id, stored)


@lru_cache(maxsize=64)
def _parsed(recall_id: str, stored: str) -> RecallDefinition:
    return parse_definition(json.loads(stored), f"recall {recall_id}")
