"""A digital notice that failed (a bounce, an SMS undelivered): the notice no longer counts,
and the case moves to its next notice in the recall's order, else to a call, else a letter."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from recall.campaign.definitions import definition_of
from recall.campaign.events import change_status, record_move
from recall.db.models import Case, Customer, EmailNotice, Message
from recall.domain.calling import WORKABLE
from recall.domain.cases import Status
from recall.domain.reach import EMAIL, SMS, Reach, next_digital

FAILED_TEXTS = ("undelivered", "failed")


def failed_notices(session: Session, case_id: int) -> tuple[str, ...]:
    """The digital notices this case tried that did not arrive."""
    failed = []
    bounced = session.scalar(select(EmailNotice.state).where(EmailNotice.case_id == case_id)) in (
        "bounced",
        "failed",
    )
    if bounced:
        failed.append(EMAIL)
    text_failed = session.scalar(
        select(exists().where(Message.case_id == case_id, Message.purpose == "notice",
                              Message.status.in_(FAILED_TEXTS)))
    )  # fmt: skip
    if text_failed:
        failed.append(SMS)
    return tuple(failed)


def move_on(
    session: Session, case: Case, failed: str, *, actor: str, now: dt.datetime, why: str
) -> str:
    """Take back the failed notice and give the case its next channel; what was done, in words."""
    if case.status == Status.NOTIFIED and case.notified_by == failed:
        change_status(session, case, Status.IDENTIFIED, actor=actor, channel=failed,
                      note=f"{failed} notice did not arrive: {why}", clock=lambda: now)  # fmt: skip
    if Status(case.status) not in WORKABLE:
        return "nothing: the case is closed"
    definition = definition_of(session, case.recall_id)
    customer = session.get_one(Customer, case.customer_id)
    reach = Reach(
        email=bool(customer.email_valid),
        mobile=case.phone_e164 is not None and not customer.do_not_call,
        done=(*failed_notices(session, case.id), failed),
    )
    following = next_digital(reach, definition.digital)
    if following == SMS and not _has_text(session, case.id):
        session.add(Message(case_id=case.id, status="waiting", sent_at=now, updated_at=now,
                            purpose="notice"))  # fmt: skip
        done = "an SMS notice queued"
    elif following == EMAIL and session.get(EmailNotice, case.id) is None:
        done = "no e-mail could be queued again"  # one e-mail per case: its id is its Message-ID
    elif case.phone_e164 is not None and not customer.do_not_call:
        case.call = True
        if case.attempts == 0 and case.callback_at is None:
            case.next_call_at = None  # no digital answer to wait for any more
        done = "to the call list"
    elif case.letter:
        done = "its letter stands"
    else:
        case.notice_only = True
        done = "the public notice alone"
    note = f"{failed} notice did not arrive ({why}): {done}"
    record_move(session, case, actor=actor, channel=failed, note=note, clock=lambda: now)
    return done


def _has_text(session: Session, case_id: int) -> bool:
    return bool(
        session.scalar(
            select(exists().where(Message.case_id == case_id, Message.purpose == "notice"))
        )
    )
