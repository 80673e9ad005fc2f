"""What becomes of an e-mail notice: accepted by the server (the case is notified), refused
(its next channel), bounced later (the notice is taken back), or queued again by the lead."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, bindparam, select, text, update
from sqlalchemy.orm import Session

from recall.campaign.events import SYSTEM
from recall.db.models import Case, EmailNotice, UtcDateTime
from recall.domain.emails import hide_emails
from recall.mail.port import WRITTEN_DOWN
from recall.reach.moves import move_on

NOTE = "e-mail notice accepted by the mail server"
SENT = text(
    "UPDATE email_notices SET state = :state, sent_at = :now, detail = :reply "
    "WHERE case_id = :id AND state = 'handed_over'"
).bindparams(bindparam("now", type_=UtcDateTime()))


def sent_state(reply: str) -> str:
    """`sent`: the server took it; `written`: the outbox wrote it down, for someone to send."""
    return "written" if reply.startswith(WRITTEN_DOWN) else "sent"


_EVENTS = (
    "INSERT INTO case_events (case_id, at, actor, channel, old_status, new_status, note) "
    f"SELECT id, :now, '{SYSTEM}', 'email', 'identified', 'notified', '{NOTE}' FROM cases "
    "WHERE id IN :ids AND status = 'identified' ORDER BY id"
)
_NOTIFIED = (
    "UPDATE cases SET status = 'notified', notified_by = COALESCE(notified_by, 'email'), "
    "updated_at = :now WHERE id IN :ids AND status = 'identified'"
)


def record_accepted(engine: Engine, accepted: list[tuple[int, str]], *, now: dt.datetime) -> None:
    """The server took these messages: their rows sent, their identified cases notified."""
    with engine.begin() as connection:
        connection.execute(SENT, [{"id": i, "state": sent_state(r), "reply": r[:200], "now": now}
                                  for i, r in accepted])  # fmt: skip
        reached = [case_id for case_id, reply in accepted if sent_state(reply) == "sent"]
        _notified(connection, reached, now)


def notify_sent(engine: Engine, recall_id: str, *, now: dt.datetime) -> None:
    """Cases whose e-mail the server took before a stop, still told nothing: notified."""
    with engine.connect() as connection:
        ids = list(connection.scalars(
            select(EmailNotice.case_id).join(Case, Case.id == EmailNotice.case_id)
            .where(EmailNotice.recall_id == recall_id, EmailNotice.state == "sent",
                   Case.status == "identified", Case.notified_by.is_(None))
        ))  # fmt: skip
    for first in range(0, len(ids), 1000):
        with engine.begin() as connection:
            _notified(connection, ids[first : first + 1000], now)


def _notified(connection: Connection, ids: list[int], now: dt.datetime) -> None:
    """The identified cases among `ids` notified by e-mail, each with its event."""
    for sql in (_EVENTS, _NOTIFIED):
        statement = text(sql).bindparams(
            bindparam("ids", expanding=True), bindparam("now", type_=UtcDateTime())
        )
        connection.execute(statement, {"ids": ids, "now": now})


def record_refused(
    engine: Engine, case_id: int, why: str, *, permanent: bool, now: dt.datetime
) -> str:
    """refused: for good, the case moves on; deferred: queued still; in_doubt: handed over."""
    why = hide_emails(why)[:300]
    with Session(engine) as session, session.begin():
        notice = session.get_one(EmailNotice, case_id)
        if not permanent:
            if notice.state == "queued":
                notice.detail = why
                return "deferred"
            return "in_doubt"  # the connection broke after the hand-over: never sent again
        notice.state, notice.detail, notice.bounced_at = "failed", why, now
        case = session.get_one(Case, case_id)
        move_on(session, case, "email", actor=SYSTEM, now=now, why="refused by the mail server")
    return "refused"


@dataclass(frozen=True)
class Bounced:
    applied: int
    repeated: int  # already recorded as bounced
    unknown: list[str]  # lines naming no e-mail of ours


def record_bounces(engine: Engine, keys: list[str], *, actor: str, now: dt.datetime) -> Bounced:
    """Each Message-ID or case reference of a bounce report: the notice taken back, the case
    moved to its next channel; applying the same report again changes nothing."""
    applied, repeated, unknown = 0, 0, []
    with Session(engine) as session, session.begin():
        for key in keys:
            notice = _notice_of(session, key)
            if notice is None:
                unknown.append(key)
            elif notice.state == "bounced":
                repeated += 1
            else:
                notice.state, notice.bounced_at = "bounced", now
                case = session.get_one(Case, notice.case_id)
                move_on(session, case, "email", actor=actor, now=now, why="bounced")
                applied += 1
    return Bounced(applied, repeated, unknown)


def _notice_of(session: Session, key: str) -> EmailNotice | None:
    key = key.strip()
    if key.startswith("<") or "@" in key:
        message_id = key if key.startswith("<") else f"<{key}>"
        return session.scalar(select(EmailNotice).where(EmailNotice.message_id == message_id))
    case_id = session.scalar(select(Case.id).where(Case.case_ref == key))
    return session.get(EmailNotice, case_id) if case_id is not None else None


def requeue_in_doubt(engine: Engine, recall_id: str) -> int:
    """The lead's choice: handed-over messages with no answer are queued to be sent again."""
    with engine.begin() as connection:
        return connection.execute(
            update(EmailNotice)
            .where(EmailNotice.recall_id == recall_id, EmailNotice.state == "handed_over")
            .values(state="queued", detail="queued again by the lead: in doubt after a stop")
        ).rowcount
