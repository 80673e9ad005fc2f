"""Call-centre agents: loaded from a roster file, switched on and off, listed for the pages."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from recall.accounts.sessions import end_sessions, users_of_agents
from recall.clock import Clock, utc_now
from recall.db.models import Agent
from recall.domain.contacts import normalise_phone, parse_flag
from recall.domain.errors import NotFound, Refused
from recall.importing.sources import BadFile, Source, open_source
from recall.spreadsheet import rejects_path, write_frame

REQUIRED = ("agent_id", "name", "languages")
MAX_CAPACITY = 10_000
_SEPARATORS = re.compile(r"[,;|\s]+")
_LANGUAGE = re.compile(r"[a-z]{2,3}")
_SKILL = re.compile(r"[\w-]+")  # \w: letters (accented too), digits and _
_CAPACITY = re.compile(r"[0-9]{1,5}")


class AgentFileError(Refused):
    """An agents file that can't be imported at all; nothing was written."""


class _Unusable(ValueError):
    """One field of a roster row that can't be used; the message says why."""


@dataclass
class AgentImportReport:
    rows_read: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejects_file: Path | None = None
    deactivated: list[str] = field(default_factory=list)  # active true -> false in this import
    activated: list[str] = field(default_factory=list)  # active false -> true in this import


@dataclass(frozen=True)
class AgentView:
    agent_id: str
    name: str
    languages: tuple[str, ...]
    skills: tuple[str, ...]
    capacity: int
    active: bool
    has_phone: bool  # the number itself stays out of pages and logs


def import_agents(
    *, engine: Engine, path: Path, home_country: str = "FR", clock: Clock = utc_now
) -> AgentImportReport:
    """Upsert the agents of a roster file in one transaction; bad rows go to a rejects file."""
    source, raw = _read(Path(path))
    report = AgentImportReport(rows_read=len(raw) + len(source.broken_rows))
    good, rejects = _check_rows(raw, home_country.upper())
    # The row can't be split into columns: its text goes in the first column, as read.
    rejects += [
        ({source.columns[0]: text}, f"{why}: quote values that hold the delimiter")
        for text, why in source.broken_rows
    ]
    _upsert(engine, good, report, clock)
    report.rejected = len(rejects)
    report.rejects_file = _write_rejects(rejects_path(source.path), source, rejects)
    return report


def set_agent_active(
    *, engine: Engine, agent_id: str, active: bool, clock: Clock = utc_now
) -> bool:
    """Switch an agent on or off; True when that changed something, LookupError if unknown."""
    with Session(engine) as session, session.begin():
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise NotFound(f"no agent with the id {agent_id!r}")
        if not active:  # whoever works as this agent is logged out everywhere at once
            end_sessions(session, users_of_agents(session, [agent_id]))
        if agent.active == active:
            return False
        agent.active, agent.updated_at = active, clock()
        return True


def list_agents(*, engine: Engine) -> list[AgentView]:
    """Every agent, by agent_id, without their phone number."""
    with Session(engine) as session:
        agents = session.scalars(select(Agent)).all()
        # Sorted here: PostgreSQL's collation and SQLite's byte order disagree on case.
        return [_view(agent) for agent in sorted(agents, key=lambda a: a.agent_id)]


def _view(agent: Agent) -> AgentView:
    return AgentView(
        agent_id=agent.agent_id,
        name=agent.name,
        languages=split_stored(agent.languages),
        skills=split_stored(agent.skills),
        capacity=agent.capacity,
        active=agent.active,
        has_phone=bool(agent.phone),
    )


def split_stored(stored: str | None) -> tuple[str, ...]:
    """`"fr,en"` as stored -> ("fr", "en")."""
    return tuple(part for part in (stored or "").split(",") if part)


def _read(path: Path) -> tuple[Source, pd.DataFrame]:
    try:
        source = open_source(path)
        missing = [name for name in REQUIRED if name not in source.columns]
        if missing:
            found = ", ".join(source.columns) or "none"
            raise AgentFileError(
                f"{path}: not an agents file: required column(s) {', '.join(missing)} "
                f"missing (found: {found})"
            )
        frames = [frame for frame, _ in source.batches()]
    except BadFile as exc:
        raise AgentFileError(str(exc)) from None
    except (OSError, pa.ArrowException) as exc:
        raise AgentFileError(f"{path}: not a readable agents file ({exc})") from None
    if not frames:
        return source, pd.DataFrame(columns=source.columns, dtype=str)
    return source, pd.concat(frames, ignore_index=True)


_Row = dict[str, str]
_Rejects = list[tuple[_Row, str]]


def _check_rows(raw: pd.DataFrame, home_country: str) -> tuple[list[dict[str, object]], _Rejects]:
    """Usable rows as Agent fields, and the others with why; an agent_id's first row wins."""
    good: dict[str, dict[str, object]] = {}
    rejects: _Rejects = []
    for row in raw.to_dict("records"):
        values, reasons = _check_row(row, home_country)
        agent_id = str(values.get("agent_id", ""))
        if not reasons and agent_id in good:
            reasons = [f"agent_id: {agent_id!r} is on an earlier row of this file, kept instead"]
        if reasons:
            rejects.append((row, "; ".join(reasons)))
        else:
            good[agent_id] = values
    return list(good.values()), rejects


def _check_row(row: _Row, home_country: str) -> tuple[dict[str, object], list[str]]:
    checks: dict[str, Callable[[str], object]] = {
        **_CHECKS,
        "phone": partial(_phone, country=home_country),
    }
    values: dict[str, object] = {}
    reasons = []
    for name, check in checks.items():
        try:
            values[name] = check(str(row.get(name, "")).strip())
        except _Unusable as exc:
            reasons.append(f"{name}: {exc}")
    return values, reasons


def _text(limit: int) -> Callable[[str], str]:
    def check(text: str) -> str:
        if not text:
            raise _Unusable("required, but empty")
        if len(text) > limit:
            raise _Unusable(f"longer than {limit} characters")
        return text

    return check


def _codes(text: str, pattern: re.Pattern[str], what: str, limit: int) -> str:
    """Words split on `,` `;` `|` or spaces, lower-cased, each once, stored comma-joined."""
    words = list(dict.fromkeys(w for w in _SEPARATORS.split(text.lower()) if w))
    bad = [w for w in words if not pattern.fullmatch(w)]
    if bad:
        raise _Unusable(f"{bad[0]!r} is not {what}")
    joined = ",".join(words)
    if len(joined) > limit:
        raise _Unusable(f"longer than {limit} characters once joined")
    return joined


def _languages(text: str) -> str:
    joined = _codes(text, _LANGUAGE, "a 2- or 3-letter language code", 200)
    if not joined:
        raise _Unusable("at least one language code is needed, e.g. fr")
    return joined


def _skills(text: str) -> str:
    return _codes(text, _SKILL, "a skill word (letters, digits, _ or -)", 300)


def _capacity(text: str) -> int:
    if not text:
        return 1
    if not _CAPACITY.fullmatch(text) or not 1 <= int(text) <= MAX_CAPACITY:
        raise _Unusable(f"{text!r} is not a whole number from 1 to {MAX_CAPACITY}")
    return int(text)


def _phone(text: str, country: str = "FR") -> str | None:
    if not text:
        return None
    e164 = normalise_phone(text, country)
    if e164 is None:
        # The number is rung for click-to-call: a wrong one must be fixed, not dropped.
        # Not quoted here: the row, in the rejects file, already shows it.
        raise _Unusable(f"not a valid phone number (read as {country} without a country code)")
    return e164


def _active(text: str) -> bool:
    if not text:
        return True  # a listed agent works unless the roster says otherwise
    flag = parse_flag(text)
    if flag is None:
        raise _Unusable(f"{text!r} is not yes or no (1/0, true/false, oui/non, yes/no)")
    return flag


_CHECKS: dict[str, Callable[[str], object]] = {
    "agent_id": _text(64),
    "name": _text(200),
    "languages": _languages,
    "skills": _skills,
    "capacity": _capacity,
    "phone": _phone,  # read in the home country, see _check_row
    "active": _active,
}


def _upsert(
    engine: Engine, rows: list[dict[str, object]], report: AgentImportReport, clock: Clock
) -> None:
    """Insert new agents, update changed ones in place, leave identical ones untouched."""
    now = clock()
    with Session(engine) as session, session.begin():
        known = {agent.agent_id: agent for agent in session.scalars(select(Agent))}
        for values in rows:
            agent = known.get(str(values["agent_id"]))
            if agent is None:
                session.add(Agent(**values, updated_at=now))
                report.added += 1
                continue
            changed = {name: v for name, v in values.items() if getattr(agent, name) != v}
            if not changed:
                report.unchanged += 1
                continue
            if "active" in changed:
                moved = report.activated if changed["active"] else report.deactivated
                moved.append(agent.agent_id)
            for name, value in changed.items():
                setattr(agent, name, value)
            agent.updated_at = now
            report.updated += 1
        end_sessions(session, users_of_agents(session, report.deactivated))
    report.activated.sort()
    report.deactivated.sort()


def _write_rejects(out: Path, source: Source, rejects: _Rejects) -> Path | None:
    """Rejected rows as read plus reject_reason, in the input's delimiter; None when all loaded."""
    out.unlink(missing_ok=True)  # a stale file from an earlier run would mislead
    if not rejects:
        return None
    rows = pd.DataFrame([row for row, _ in rejects]).reindex(columns=source.columns).fillna("")
    rows["reject_reason"] = [why for _, why in rejects]
    write_frame(rows, out, sep=source.delimiter, encoding="utf-8-sig")
    return out
