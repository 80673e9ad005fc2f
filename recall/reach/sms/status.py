"""What the provider reports of an SMS notice, applied once: delivered, the customer is
notified; undelivered or failed, the case moves on to its next channel.

Callbacks come again and out of order: a status is written only when it moves the notice on
(`recall.domain.message_status`), and only by the callback that moved it there first.
"""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from recall.campaign.events import change_status
from recall.clock import Clock, utc_now
from recall.db.models import Case, Message
from recall.domain.cases import Status
from recall.domain.message_status import ARRIVED, moves_forward
from recall.domain.reach import SMS
from recall.reach.moves import FAILED_TEXTS, move_on
from recall.reach.sms.sending import NOTICE

PROVIDER = "twilio"  # the actor of the events a provider's callback makes
_SID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_ERROR_CODE = re.compile(r"[0-9]{1,6}")


def message_purpose(*, engine: Engine, message_id: int) -> str | None:
    """What a text message was sent for ("notice" or "pre_call"); None when there is none."""
    with Session(engine) as session:
        return session.scalar(select(Message.purpose).where(Message.id == message_id))


def record_notice_status(
    *,
    engine: Engine,
    message_id: int,
    sid: str,
    status: str,
    error_code: str | None = None,
    clock: Clock = utc_now,
) -> str:
    """An SMS notice's delivery status: "recorded", "repeat" (nothing new) or "unknown"."""
    if not _SID.fullmatch(sid):
        return "unknown"
    now = clock()
    try:
        with Session(engine) as session, session.begin():
            message = session.get(Message, message_id)
            if message is None or message.purpose != NOTICE or message.sid not in (None, sid):
                return "unknown"
            if not moves_forward(message.status, status) or not _advance(
                session, message, sid, status, now
            ):
                return "repeat"
            _apply(session, session.get_one(Case, message.case_id), status, error_code, now)
    except IntegrityError:
        return "unknown"  # a sid another message already holds
    return "recorded"


def _advance(session: Session, message: Message, sid: str, status: str, now: dt.datetime) -> bool:
    """Write the new status unless another callback changed the notice since it was read."""
    moved = session.execute(
        update(Message)
        .where(Message.id == message.id, Message.status == message.status,
               or_(Message.sid.is_(None), Message.sid == sid))
        .values(sid=sid, status=status, updated_at=now)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def _apply(
    session: Session, case: Case, status: str, error_code: str | None, now: dt.datetime
) -> None:
    if status in ARRIVED and case.status == Status.IDENTIFIED:
        change_status(session, case, Status.NOTIFIED, actor=PROVIDER, channel=SMS,
                      note="SMS notice delivered", clock=lambda: now)  # fmt: skip
    elif status in FAILED_TEXTS:
        code = f" (error {error_code})" if error_code and _ERROR_CODE.fullmatch(error_code) else ""
        move_on(session, case, SMS, actor=PROVIDER, now=now, why=f"SMS {status}{code}")
