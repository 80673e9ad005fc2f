"""The digital reach of a recall: per channel, the notices that reached customers, the
customers who got in touch, the cases settled there; and where the e-mails and texts stand."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from recall.db.models import Case, CaseEvent, EmailNotice, Message

# The channels of the reach table, in the order it lists them.
CHANNELS = ("email", "sms", "web", "letter", "phone", "voicemail", "hotline", "store")


@dataclass
class ChannelLine:
    notified: int = 0  # cases whose standing notice came this way
    contacted: int = 0  # cases whose first contact came this way
    resolved: int = 0  # cases settled this way


@dataclass
class Reach:
    by_channel: dict[str, ChannelLine] = field(default_factory=dict)
    emails: dict[str, int] = field(default_factory=dict)  # outbox state -> notices
    texts: dict[str, int] = field(default_factory=dict)  # SMS notice status -> notices


def reach(session: Session, recall_id: str) -> Reach:
    """The recall's reach per channel, and its outbox and SMS states."""
    lines = {channel: ChannelLine() for channel in CHANNELS}

    def line(channel: str | None) -> ChannelLine:
        return lines.setdefault(channel or "system", ChannelLine())

    mine = Case.recall_id == recall_id
    for channel, count in session.execute(
        select(Case.notified_by, func.count()).where(mine, Case.notified_by.is_not(None))
        .group_by(Case.notified_by)
    ):  # fmt: skip
        line(channel).notified += count
    for status, attribute in (("contacted", "contacted"), ("resolved", "resolved")):
        for channel, count in _first_step_channels(session, recall_id, status):
            setattr(line(channel), attribute, getattr(line(channel), attribute) + count)
    return Reach(
        {k: v for k, v in lines.items() if k in CHANNELS or v.notified or v.contacted},
        _states(session, select(EmailNotice.state, func.count())
                .where(EmailNotice.recall_id == recall_id).group_by(EmailNotice.state)),
        _states(session, select(Message.status, func.count()).join(Case, Case.id == Message.case_id)
                .where(mine, Message.purpose == "notice").group_by(Message.status)),
    )  # fmt: skip


def _first_step_channels(session: Session, recall_id: str, status: str) -> list:
    """(channel, cases): the channel of each case's first step to `status`."""
    first = (
        select(CaseEvent.case_id, func.min(CaseEvent.id).label("event_id"))
        .join(Case, Case.id == CaseEvent.case_id)
        .where(Case.recall_id == recall_id, CaseEvent.new_status == status,
               CaseEvent.old_status.is_distinct_from(status))
        .group_by(CaseEvent.case_id)
        .subquery()
    )  # fmt: skip
    return list(
        session.execute(
            select(CaseEvent.channel, func.count())
            .join(first, first.c.event_id == CaseEvent.id)
            .group_by(CaseEvent.channel)
        )
    )


def _states(session: Session, query: Select) -> dict[str, int]:
    return {str(state): count for state, count in session.execute(query)}
