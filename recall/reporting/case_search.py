"""A recall's cases as its quality lead looks for them: filtered, counted, a page at a time,
and the very same selection written as CSV, streamed, however many cases it holds."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, literal, select
from sqlalchemy.orm import Session

from recall import spreadsheet
from recall.calling.queue import held_by
from recall.db.models import Agent, Case, QueueEntry, Recall, Store
from recall.domain.cases import Status
from recall.domain.errors import RecallNotFound
from recall.reporting.overview import CASE_COLUMNS

NONE = "none"  # the filter's value for no agent, no notice that reached, no outcome yet
PER_PAGE = 50
EXPORT_BATCH = 2_000  # rows read and written at a time: the export's memory stays flat
# The `recall cases` columns, then what the filters select by (no more personal data).
EXPORT_COLUMNS = (*CASE_COLUMNS, "first_channel", "notified_by", "outcome")
FACETS = ("status", "agent", "channel", "notified_by", "outcome")
_STATUS_ORDER = {status.value: rank for rank, status in enumerate(Status)}


@dataclass(frozen=True)
class CaseFilter:
    """What the lead asked for; an empty field selects everything."""

    status: str = ""
    agent: str = ""  # an agent_id, or NONE
    channel: str = ""  # the channel the case was identified with: letter, call, notice
    notified_by: str = ""  # the channel of the notice that reached the customer, or NONE
    store: str = ""  # a store_id the customer bought from
    outcome: str = ""  # or NONE
    text: str = ""  # a part of the case reference


@dataclass(frozen=True)
class StoreName:
    store_id: str
    name: str | None
    city: str | None


@dataclass(frozen=True)
class Choice:
    """One value a filter may take, with the cases it would select given the other filters."""

    value: str
    count: int
    name: str = ""  # an agent's or a store's name
    city: str = ""  # a store's town


@dataclass(frozen=True)
class CaseLine:
    case_ref: str
    status: str
    first_channel: str
    notified_by: str | None
    outcome: str | None
    agent_id: str | None
    agent_name: str | None
    stores: tuple[StoreName, ...]
    quantity: int
    updated_at: dt.datetime


@dataclass(frozen=True)
class CasePage:
    recall_id: str
    lines: tuple[CaseLine, ...]
    total: int  # cases the filters select, every page
    page: int
    per_page: int
    choices: dict[str, tuple[Choice, ...]]  # filter -> its values (FACETS and "store")

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


SORTS: dict[str, tuple[Any, ...]] = {
    "ref": (Case.seq,),
    "-ref": (Case.seq.desc(),),
    "updated": (Case.updated_at.desc(), Case.seq),  # the latest change first
    "status": (Case.status, Case.seq),
    "agent": (QueueEntry.agent_id.nulls_last(), Case.seq),
}


def search_cases(
    *,
    engine: Engine,
    recall_id: str,
    filters: CaseFilter,
    sort: str = "ref",
    page: int = 1,
    per_page: int = PER_PAGE,
) -> CasePage:
    """One page of the cases the filters select, their count, and each filter's choices."""
    with Session(engine) as session:
        _known(session, recall_id)
        agents = dict(session.execute(select(Agent.agent_id, Agent.name)).tuples().all())
        choices = {name: _choices(session, recall_id, filters, name, agents) for name in FACETS}
        choices["store"] = _store_choices(session, recall_id, filters)
        # The status choices count every status under the other filters: their sum is the total.
        total = sum(c.count for c in choices["status"] if c.value == (filters.status or c.value))
        page = min(max(page, 1), max(1, -(-total // per_page)))
        query = _selection(recall_id, filters, sort, *_LINE_COLUMNS).outerjoin(
            Agent, Agent.agent_id == QueueEntry.agent_id
        )
        rows = session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
        stores = _stores(session, {s for row in rows for s in _split(row.stores)})
    lines = tuple(_line(row, stores) for row in rows)
    return CasePage(recall_id, lines, total, page, per_page, choices)


def export_cases_csv(
    *, engine: Engine, recall_id: str, filters: CaseFilter, sort: str = "ref", delimiter: str = ","
) -> Iterator[str]:
    """Every case the filters select, in the page's order, as CSV text in chunks (the header
    first), the columns of `recall cases` and the filtered ones; RecallNotFound at once."""
    with Session(engine) as session:
        _known(session, recall_id)
    columns = (QueueEntry.agent_id if n == "agent_id" else getattr(Case, n) for n in EXPORT_COLUMNS)
    return _csv_chunks(engine, _selection(recall_id, filters, sort, *columns), delimiter)


def _csv_chunks(engine: Engine, query: Select[Any], delimiter: str) -> Iterator[str]:
    out = io.StringIO()
    writer = spreadsheet.writer(out, delimiter=delimiter)
    writer.writerow(EXPORT_COLUMNS)
    with engine.connect() as connection:  # a server-side cursor on PostgreSQL
        result = connection.execution_options(yield_per=EXPORT_BATCH).execute(query)
        for rows in result.partitions():
            writer.writerows(map(_cells, rows))
            yield _drained(out)
    yield _drained(out)


def _cells(row: Iterable[object]) -> list[object]:
    """Flags as 0 and 1, as `recall cases` writes them."""
    return [int(v) if isinstance(v, bool) else v for v in row]


def _drained(out: io.StringIO) -> str:
    text = out.getvalue()
    out.seek(0)
    out.truncate()
    return text


def _known(session: Session, recall_id: str) -> None:
    if session.get(Recall, recall_id) is None:
        raise RecallNotFound(recall_id)


def _column(name: str) -> Any:
    return {"status": Case.status, "agent": QueueEntry.agent_id, "channel": Case.first_channel,
            "notified_by": Case.notified_by, "outcome": Case.outcome}[name]  # fmt: skip


def _conditions(recall_id: str, filters: CaseFilter, but: str = "") -> list[ColumnElement[bool]]:
    """The filters as SQL, leaving out the one named `but` (to count its choices)."""
    found = [Case.recall_id == recall_id]
    for name in (n for n in FACETS if n != but and getattr(filters, n)):
        value, column = getattr(filters, name), _column(name)
        found.append(column.is_(None) if value == NONE else column == value)
    if filters.store and but != "store":  # `stores` holds the ids bought from: "S001,S004"
        listed = literal(",") + Case.stores + literal(",")
        found.append(listed.contains(f",{filters.store},", autoescape=True))
    if filters.text.strip():
        text = filters.text.strip().upper()
        found.append(func.upper(Case.case_ref).contains(text, autoescape=True))
    return found


def _selection(recall_id: str, filters: CaseFilter, sort: str, *columns: Any) -> Select[Any]:
    return (
        select(*columns)
        .select_from(Case)
        .outerjoin(*held_by())
        .where(*_conditions(recall_id, filters))
        .order_by(*SORTS.get(sort, SORTS["ref"]))
    )


def _choices(
    session: Session, recall_id: str, filters: CaseFilter, name: str, agents: dict[str, str]
) -> tuple[Choice, ...]:
    column = _column(name)
    query = (
        select(column, func.count())
        .select_from(Case)
        .outerjoin(*held_by())
        .where(*_conditions(recall_id, filters, but=name))
        .group_by(column)
    )
    names = agents if name == "agent" else {}
    order = _STATUS_ORDER if name == "status" else {}
    choices = [Choice(value or NONE, count, names.get(value, "")) for value, count in
               session.execute(query).tuples()]  # fmt: skip
    choices.sort(
        key=lambda c: (c.value == NONE, order.get(c.value, 0), (c.name or c.value).casefold())
    )
    return tuple(choices)


def _store_choices(session: Session, recall_id: str, filters: CaseFilter) -> tuple[Choice, ...]:
    """Each store bought from, with its cases (a case of two stores counts in both)."""
    query = (
        select(Case.stores, func.count())
        .select_from(Case)
        .outerjoin(*held_by())
        .where(*_conditions(recall_id, filters, but="store"))
        .group_by(Case.stores)
    )
    counts: Counter[str] = Counter()
    for stores, count in session.execute(query).tuples():
        for store in _split(stores):
            counts[store] += count
    names = _stores(session, set(counts))
    choices = [Choice(s, n, names[s].name or "", names[s].city or "") for s, n in counts.items()]
    return tuple(sorted(choices, key=lambda c: ((c.name or c.value).casefold(), c.value)))


def _stores(session: Session, ids: set[str]) -> dict[str, StoreName]:
    """Stores by id, with their names where the stores file gave one."""
    known = session.execute(
        select(Store.store_id, Store.name, Store.city).where(Store.store_id.in_(sorted(ids)))
    )
    found = {store_id: StoreName(store_id, name, city) for store_id, name, city in known}
    return {s: found.get(s, StoreName(s, None, None)) for s in ids}


def _split(stores: str | None) -> list[str]:
    return [s for s in (stores or "").split(",") if s]


_LINE_COLUMNS = (
    Case.case_ref, Case.status, Case.first_channel, Case.notified_by, Case.outcome,
    QueueEntry.agent_id, Agent.name.label("agent_name"), Case.stores, Case.quantity,
    Case.updated_at,
)  # fmt: skip


def _line(row: Any, stores: dict[str, StoreName]) -> CaseLine:
    return CaseLine(
        row.case_ref, row.status, row.first_channel, row.notified_by, row.outcome,
        row.agent_id, row.agent_name, tuple(stores[s] for s in _split(row.stores)),
        row.quantity, row.updated_at,
    )  # fmt: skip
