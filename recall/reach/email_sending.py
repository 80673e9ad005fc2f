"""Sending a recall's queued e-mail notices: in parallel connections, at a set rate, resumable,
and never twice for a case, whatever stops the run.

The guarantee, and how it is held: each message goes to the server up to the last line of its
data; then its outbox row moves from `queued` to `handed_over` in a committed transaction; only
then is the end of data (".") sent. A run only ever sends `queued` rows, so a message handed
over is never sent again, even when the process is killed before the server's answer. A kill
before the hand-over leaves the row `queued` and the server drops the unfinished message: the
next run sends it. What can be lost is a message whose hand-over was committed in the
microseconds before its "." left: it stays `handed_over` without a reply, is counted "in
doubt", never as notified, and the lead can queue it again (`recall email requeue`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select, update

from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer, EmailNotice
from recall.mail.port import MailConnection, Mailer, MailError
from recall.reach.email_handover import HandOvers, HandOverWriter
from recall.reach.email_message import EmailComposer, Recipient
from recall.reach.email_outcomes import notify_sent, record_accepted, record_refused

log = logging.getLogger(__name__)
_T = TypeVar("_T")
CHUNK = 200  # cases read from the database at once by a sender
FLUSH_EVERY_S = 0.5  # accepted messages are written down at least this often
CONNECT_TRIES = 5
SENDABLE = ("identified", "notified")  # a customer who answered needs no e-mail any more
Progress = Callable[["EmailReport", int], None]


@dataclass
class EmailReport:
    sent: int = 0
    refused: int = 0  # for good: the case moved to its next channel
    deferred: int = 0  # for now: still queued, for the next run
    skipped: int = 0  # the customer answered meanwhile, or the address no longer holds
    in_doubt: int = 0  # handed over by an earlier run, with no answer: never sent again
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


class _Pace:
    """At most `rate` messages a second, all senders together."""

    def __init__(self, rate: int) -> None:
        self.gap, self.next, self.lock = 1.0 / rate, time.monotonic(), threading.Lock()

    def wait(self) -> None:
        with self.lock:
            now = time.monotonic()
            slot = max(now, self.next)
            self.next = slot + self.gap
        if slot > now:
            time.sleep(slot - now)


def send_email_notices(
    *,
    engine: Engine,
    mailer: Mailer,
    composer: EmailComposer,
    recall_id: str,
    connections: int = 4,
    rate: int = 100,
    clock: Clock = utc_now,
    progress: Progress | None = None,
) -> EmailReport:
    """Send every queued e-mail notice of the recall; what was done."""
    started = time.perf_counter()
    report = EmailReport(in_doubt=_in_doubt(engine, recall_id))
    report.skipped = _skip_answered(engine, recall_id)
    notify_sent(engine, recall_id, now=clock())  # sent before a stop, their cases not yet told
    ids = _queued(engine, recall_id)
    work: queue.Queue[list[int]] = queue.Queue()
    size = max(1, min(CHUNK, -(-len(ids) // connections)))  # every connection gets work
    for first in range(0, len(ids), size):
        work.put(ids[first : first + size])
    run = _Run(engine, mailer, composer, report, _Pace(rate), clock, len(ids), progress)
    senders = [threading.Thread(target=run.sender, args=(work,), daemon=True)
               for _ in range(max(1, min(connections, work.qsize())))]  # fmt: skip
    try:
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    finally:
        run.writer.close()
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Run:
    engine: Engine
    mailer: Mailer
    composer: EmailComposer
    report: EmailReport
    pace: _Pace
    clock: Clock
    total: int
    progress: Progress | None
    lock: threading.Lock = field(default_factory=threading.Lock)
    writing: threading.Lock = field(default_factory=threading.Lock)
    told: float = 0.0
    writer: HandOverWriter = field(init=False)
    hand_overs: HandOvers = field(init=False)

    def __post_init__(self) -> None:
        self.writer = HandOverWriter(self.engine)
        self.hand_overs = HandOvers(lambda batch: self._write(self.writer, batch, self.clock()))

    def _write(self, write: Callable[..., _T], *args: Any, **named: Any) -> _T:
        """SQLite takes one writer at a time, and makes the others sleep in steps of
        milliseconds: the senders of this process take turns instead. A server needs none."""
        if self.engine.dialect.name != "sqlite":
            return write(*args, **named)
        with self.writing:
            return write(*args, **named)

    def sender(self, work: queue.Queue[list[int]]) -> None:
        """One connection's loop: chunks until none is left, or the server can't be reached."""
        connection: MailConnection | None = None
        try:
            while True:
                try:
                    chunk = work.get_nowait()
                except queue.Empty:
                    return
                connection = self._chunk(chunk, connection)
        except MailError as exc:  # the server can't be reached: the rest waits for a next run
            with self.lock:
                self.report.problems.append(str(exc))
        finally:
            if connection is not None:
                connection.close()

    def _chunk(self, ids: list[int], connection: MailConnection | None) -> MailConnection | None:
        accepted: list[tuple[int, str]] = []  # taken by the server, their cases not yet told
        unmarked: list[tuple[int, str]] = []  # taken by the server, their rows not yet `sent`
        flushed = time.monotonic()
        for to in _recipients(self.engine, ids):
            connection = connection or _connect(self.mailer)
            reply, connection = self._one(to, connection, unmarked)
            if reply is not None:
                accepted.append((to.case_id, reply))
                unmarked.append((to.case_id, reply))
            if time.monotonic() - flushed > FLUSH_EVERY_S:
                self._flush(accepted)
                accepted, unmarked, flushed = [], [], time.monotonic()
        self._flush(accepted)
        return connection

    def _one(
        self, to: Recipient, connection: MailConnection, unmarked: list[tuple[int, str]]
    ) -> tuple[str | None, MailConnection | None]:
        """One message; the hand-over's transaction also marks the ones sent before it."""
        self.pace.wait()
        message = self.composer.compose(to, self.clock())

        def hand_over() -> bool:
            taken = self.hand_overs.hand_over(to.case_id, unmarked)
            unmarked.clear()
            return taken

        try:
            reply = connection.send(message, hand_over)
        except MailError as exc:
            self._refused(to, exc)
            return None, None if not exc.permanent else connection
        if reply is None:  # another run took it first
            return None, None
        return reply, connection

    def _refused(self, to: Recipient, exc: MailError) -> None:
        outcome = self._write(record_refused, self.engine, to.case_id, str(exc),
                              permanent=exc.permanent, now=self.clock())  # fmt: skip
        with self.lock:
            if outcome == "refused":
                self.report.refused += 1
            elif outcome == "deferred":
                self.report.deferred += 1
            else:
                self.report.in_doubt += 1

    def _flush(self, accepted: list[tuple[int, str]]) -> None:
        if accepted:
            self._write(record_accepted, self.engine, accepted, now=self.clock())
        with self.lock:
            self.report.sent += len(accepted)
            if self.progress and time.monotonic() - self.told > 2:
                self.told = time.monotonic()
                self.progress(self.report, self.total)


def _connect(mailer: Mailer) -> MailConnection:
    for attempt in range(CONNECT_TRIES):
        try:
            return mailer.connect()
        except MailError as exc:
            if exc.permanent or attempt == CONNECT_TRIES - 1:
                raise
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


def _skip_answered(engine: Engine, recall_id: str) -> int:
    """Queued notices whose customer answered meanwhile, or whose address no longer holds."""
    answered = select(Case.id).where(Case.recall_id == recall_id, Case.status.not_in(SENDABLE))
    invalid = (
        select(Case.id)
        .join(Customer, Customer.customer_id == Case.customer_id)
        .where(Case.recall_id == recall_id, Customer.email_valid.is_not(True))
    )
    with engine.begin() as connection:
        return connection.execute(
            update(EmailNotice)
            .where(EmailNotice.recall_id == recall_id, EmailNotice.state == "queued",
                   EmailNotice.case_id.in_(answered.union(invalid)))
            .values(state="skipped")
        ).rowcount  # fmt: skip


def _queued(engine: Engine, recall_id: str) -> list[int]:
    with engine.connect() as connection:
        return list(connection.scalars(
            select(EmailNotice.case_id)
            .where(EmailNotice.recall_id == recall_id, EmailNotice.state == "queued")
            .order_by(EmailNotice.case_id)
        ))  # fmt: skip


def _in_doubt(engine: Engine, recall_id: str) -> int:
    with engine.connect() as connection:
        return connection.scalar(
            select(func.count()).select_from(EmailNotice)
            .where(EmailNotice.recall_id == recall_id, EmailNotice.state == "handed_over")
        ) or 0  # fmt: skip


def _recipients(engine: Engine, ids: list[int]) -> list[Recipient]:
    """The chunk's cases still queued, with their addresses."""
    query = (
        select(
            Case.id, Case.case_ref, EmailNotice.message_id, Case.language, Customer.email,
            Customer.first_name, Customer.last_name, Case.quantity, Case.lots, Case.stores,
            Case.first_purchase,
        )
        .join(EmailNotice, EmailNotice.case_id == Case.id)
        .join(Customer, Customer.customer_id == Case.customer_id)
        .where(Case.id.in_(ids), EmailNotice.state == "queued")
        .order_by(Case.id)
    )  # fmt: skip
    with engine.connect() as connection:
        return [Recipient(*row) for row in connection.execute(query)]
