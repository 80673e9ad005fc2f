"""The hand-over of an e-mail: its outbox row moved from `queued` to `handed_over` and committed
before the end of its data goes (the guarantee at the top of email_sending).

One commit per message is the price of that guarantee, and it is kept as low as it goes: the
hand-overs of all connections wait at one desk, and a sender that finds no commit under way
commits every one waiting, in one transaction; the statements go straight to the database's
driver on a connection kept for them (through SQLAlchemy's statement machinery, a hand-over
cost four times the database's own work).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from recall.db.models import UtcDateTime
from recall.reach.email_outcomes import sent_state

Sent = list[tuple[int, str]]  # (case id, the server's reply) of messages the server took
Batch = dict[int, Sent]  # case id handed over -> messages its connection saw taken since


class HandOvers:
    """Hand-overs committed together: each sender's row is committed before its call returns,
    in a transaction that may carry the rows of other senders waiting at the same time."""

    def __init__(self, commit: Callable[[Batch], set[int]]) -> None:
        self.commit = commit
        self.lock = threading.Lock()  # guards `next`
        self.next = _Pending()  # the rows arriving while a commit is under way
        self.committing = threading.Lock()  # held by the sender committing a batch

    def hand_over(self, case_id: int, sent: Sent) -> bool:
        """Whether the case's row went from queued to handed_over (and `sent` were marked)."""
        with self.lock:
            pending = self.next
            pending.rows[case_id] = list(sent)
        with self.committing:  # the first of a batch in commits it; the others find it done
            if pending.answers is None:
                with self.lock:
                    self.next = _Pending()
                pending.answers = self._answers(pending.rows)
        answer = pending.answers[case_id]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _answers(self, batch: Batch) -> dict[int, bool | Exception]:
        try:
            moved = self.commit(batch)
        except Exception as exc:  # every sender of the batch hears of it
            return dict.fromkeys(batch, exc)
        return {case_id: case_id in moved for case_id in batch}


@dataclass
class _Pending:
    rows: Batch = field(default_factory=dict)
    answers: dict[int, bool | Exception] | None = None


class HandOverWriter:
    """The hand-over's statements, on a database connection of its own. On PostgreSQL they are
    one statement in autocommit, a single round trip; on SQLite, two and a commit."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        dialect = engine.dialect
        self.postgresql = dialect.name == "postgresql"
        self.mark = "?" if dialect.paramstyle == "qmark" else "%s"
        self.stored = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)
        self.connection: Any = None

    def __call__(self, batch: Batch, now: dt.datetime) -> set[int]:
        """The batch's rows from queued to handed_over, committed: from here on, never sent
        again; the ones moved. The same transaction marks `sent` the messages the server took
        since each connection's last hand-over, so that a stop leaves at most one message in
        doubt on each connection."""
        at = self.stored(now) if self.stored else now
        sent = [(case_id, sent_state(reply), reply[:200])
                for marks in batch.values() for case_id, reply in marks]  # fmt: skip
        connection = self._connection()
        try:
            cursor = connection.cursor()
            if self.postgresql:  # one statement, committed as it ends
                cursor.execute(*self._in_one(list(batch), sent, at))
            else:
                if sent:
                    marks = [(state, at, reply, i) for i, state, reply in sent]
                    cursor.executemany(_SENT.format(m=self.mark), marks)
                cursor.execute(self._handed_over(len(batch)), (at, *batch))
            moved = {int(row[0]) for row in cursor.fetchall()}
            connection.commit()
            cursor.close()
        except Exception:
            self.close()  # rolled back with it; the next hand-over opens a connection anew
            raise
        return moved

    def _handed_over(self, count: int) -> str:
        marks = ", ".join([self.mark] * count)
        return (
            f"UPDATE email_notices SET state = 'handed_over', handed_at = {self.mark} "
            f"WHERE case_id IN ({marks}) AND state = 'queued' RETURNING case_id"
        )

    def _in_one(self, ids: list[int], sent: list[tuple[int, str, str]], at: Any) -> tuple:
        """PostgreSQL: the rows marked sent in a WITH of the hand-over's own statement."""
        if not sent:
            return self._handed_over(len(ids)), (at, *ids)
        rows = ", ".join(["(%s::bigint, %s, %s)"] * len(sent))
        marked = (
            "WITH marked AS (UPDATE email_notices AS e SET state = m.state, sent_at = %s, "
            f"detail = m.reply FROM (VALUES {rows}) AS m (case_id, state, reply) "
            "WHERE e.case_id = m.case_id AND e.state = 'handed_over') "
        )
        return marked + self._handed_over(len(ids)), (at, *_flat(sent), at, *ids)

    def _connection(self) -> Any:
        if self.connection is None:
            self.connection = self.engine.raw_connection()
            if self.postgresql:
                # Each statement its own transaction. Our own process dying loses nothing
                # committed; only a database crash within a fraction of a second could, and the
                # WAL flush is not worth a wait per e-mail. Both are set on this connection
                # only, which is closed after, never handed back to the pool.
                self.connection.dbapi_connection.autocommit = True
                cursor = self.connection.cursor()
                cursor.execute("SET synchronous_commit TO OFF")
                cursor.close()
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.invalidate()
            self.connection = None


# email_outcomes.SENT, for the driver.
_SENT = (
    "UPDATE email_notices SET state = {m}, sent_at = {m}, detail = {m} "
    "WHERE case_id = {m} AND state = 'handed_over'"
)


def _flat(rows: list[tuple[int, str, str]]) -> list[Any]:
    return [value for row in rows for value in row]
