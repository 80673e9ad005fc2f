"""Working a call list: the next case for an agent, and what each call came to.

A case is worked by one desk at a time. A desk (an agent's browser tab, a dialer seat, a
thread in the tests) claims a case for a while; the claim is taken by a single UPDATE that
re-checks the case is free, so two desks never hold the same case, on PostgreSQL (where the
candidate row is also locked with SKIP LOCKED, so desks don't queue behind each other) as on
SQLite (where writes are serialised).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from sqlalchemy import (
    Engine,
    and_,
    bindparam,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, contains_eager
from sqlalchemy.sql.dml import ReturningUpdate
from sqlalchemy.sql.elements import BindParameter

from recall.calling.case_card import CaseCard, card_for
from recall.calling.escalations import stays_with_specialist
from recall.calling.open_zones import OpenZones, callable_now, open_condition, open_zones
from recall.calling.queue import claim_order, held_by, on_call_list
from recall.campaign.definitions import known_definition
from recall.campaign.events import record_move
from recall.clock import Clock, utc_now
from recall.db.models import Agent, Case, Customer, QueueEntry, Recall
from recall.domain.errors import NotFound, Refused

CLAIM_FOR = dt.timedelta(minutes=20)


class WorkError(Refused):
    """A request on a case that can't be honoured; nothing was written."""


class NotYourCase(NotFound):
    """The case is not on this agent's list (or does not exist): shown as not found."""


class AlreadyRecorded(WorkError):
    """A save made for a case whose calls changed since it was opened: a repeated click, a
    retry, a second tab. Nothing is recorded twice."""


class AgentInactive(WorkError):
    """The agent was deactivated: their desk claims, records, dials and takes over nothing."""


# The statements of every call, built once: each would otherwise cost more to build than to send.
_ACTIVE = select(Agent.active, Agent.name).where(Agent.agent_id == bindparam("agent_id"))
_FREE = or_(Case.claimed_until.is_(None), Case.claimed_until <= bindparam("now"),
            Case.claimed_by == bindparam("who"))  # fmt: skip
_HOLD = (
    update(Case)
    .where(Case.id == bindparam("case_id"), _FREE)
    .values(claimed_by=bindparam("who"), claimed_until=bindparam("until"))
    .execution_options(synchronize_session=False)
)
# The cases this desk holds: the first it may still work (on its agent's list, its claim
# running) is given back; the others (a hotline case left without a word) are let go.
_DESK_HOLDS = (
    select(Case.id, and_(Case.claimed_until > bindparam("now"), on_call_list(),
                         QueueEntry.agent_id == bindparam("agent_id"), QueueEntry.to_call))
    .outerjoin(*held_by())
    .where(Case.claimed_by == bindparam("who"))
    .order_by(Case.claimed_until)
)  # fmt: skip
_LET_GO = (
    update(Case)
    .values(claimed_by=None, claimed_until=None)
    .execution_options(synchronize_session=False)
)
_CASE_LET_GO = _LET_GO.where(Case.id == bindparam("case_id"))
_DESK_LETS_GO = _CASE_LET_GO.where(Case.claimed_by == bindparam("who"))
_HOLD_MINE = (
    update(Case)
    .where(
        Case.id == bindparam("case_id"),
        or_(
            and_(Case.claimed_by == bindparam("who"), Case.claimed_until > bindparam("now")),
            and_(Case.id.in_(select(QueueEntry.case_id)
                             .where(QueueEntry.agent_id == bindparam("agent_id"))), _FREE),
        ),
    )
    .values(claimed_by=bindparam("who"), claimed_until=bindparam("until"))
    .execution_options(synchronize_session=False)
)  # fmt: skip
_HELD_CASE = (
    select(Case, Recall.closed_at, Recall.definition)
    .join(Recall, Recall.id == Case.recall_id)
    .outerjoin(*held_by())
    .options(contains_eager(Case.holder))  # the list it is on, read in the same statement
    .where(Case.id == bindparam("case_id"))
    .execution_options(populate_existing=True)
)


def check_active(session: Session, agent_id: str) -> str:
    """Raise AgentInactive unless the agent exists and is active, read in this transaction;
    the agent's name on the roster."""
    found = session.connection().execute(_ACTIVE, {"agent_id": agent_id})
    active, name = found.first() or (None, None)
    if active is None:
        raise AgentInactive(f"no agent {agent_id!r}: import the agents file first")
    if not active:
        raise AgentInactive(
            f"agent {agent_id} is no longer active: nothing was taken or saved; "
            "ask the lead to reactivate you"
        )
    return name or ""


def claimant(agent_id: str, desk: str = "") -> str:
    """Who holds a claim: the agent, and the desk when an agent works from several."""
    return f"{agent_id}/{desk}" if desk else agent_id


def next_case(
    *,
    engine: Engine,
    agent_id: str,
    desk: str = "",
    clock: Clock = utc_now,
) -> CaseCard | None:
    """Claim the agent's most urgent case that may be called now; None when nothing is due.

    Escalations come first (injuries before other escalations), then due callbacks, then the
    queue order; a case waits out `retry_after` after an unanswered call, and customers are
    only called within the recall's calling hours on their own clock. A desk that already
    holds a case gets it back.
    """
    with Session(engine) as session, session.begin():
        won = claim_next(session, agent_id, claimant(agent_id, desk), clock())
        return card_for(session, won) if won is not None else None


def next_case_id(
    *, engine: Engine, agent_id: str, desk: str = "", clock: Clock = utc_now
) -> int | None:
    """`next_case`, for a desk that opens the case's page next: the id of the case claimed."""
    with Session(engine) as session, session.begin():
        return claim_next(session, agent_id, claimant(agent_id, desk), clock())


def claim_next(
    session: Session, agent_id: str, who: str, now: dt.datetime, *, checked: bool = False
) -> int | None:
    """`next_case_id`, in the caller's transaction (after a save: the next call); `checked`:
    the transaction has checked the agent is active already."""
    if not checked:
        check_active(session, agent_id)
    values = {"who": who, "now": now, "agent_id": agent_id}
    holds = session.connection().execute(_DESK_HOLDS, values).all()
    kept = [case_id for case_id, may_work in holds if may_work]
    if kept:
        hold_claim(session, kept[0], who, now)
        return int(kept[0])
    for case_id, _ in holds:  # a caller's case opened from the hotline, left without a word
        session.connection().execute(_DESK_LETS_GO, {"case_id": case_id, "who": who})
    for fresh in (False, True):  # the zones as last read, then read again if they misled
        zones = open_zones(session, agent_id, now, fresh=fresh)
        if not zones:
            continue
        skip_locked = session.get_bind().dialect.name == "postgresql"
        values = {"agent_id": agent_id, "who": who, "now": now, "until": now + CLAIM_FOR}
        claim = _claim_statement(zones, skip_locked)
        won = session.connection().execute(claim, values).first()
        if won is not None and callable_now(session, won, now):
            return int(won.id)
        if won is not None:  # a zone or country the zones read lacked: let it go, read again
            session.connection().execute(_CASE_LET_GO, {"case_id": won.id})
    return None


# The customer's country, for the public holidays of the calling hours (`callable_now`).
_COUNTRY = (
    select(Customer.country)
    .where(Customer.customer_id == Case.customer_id)
    .scalar_subquery()
    .label("country")
)


@lru_cache(maxsize=64)
def _claim_statement(
    zones: OpenZones, skip_locked: bool
) -> ReturningUpdate[tuple[int, str, str | None, str, str | None]]:
    """The claim of the agent's first case to call in the open `zones`, built once for each."""
    now: BindParameter[dt.datetime] = bindparam("now")
    candidate = (
        select(Case.id)
        .join(*held_by())
        .where(
            QueueEntry.agent_id == bindparam("agent_id"),
            QueueEntry.to_call,
            on_call_list(),
            or_(Case.next_call_at.is_(None), Case.next_call_at <= now),
            _FREE,
            open_condition(zones),
        )
        .order_by(*claim_order())  # the claim index's order: its first entry that may be called
        .limit(1)
    )
    if skip_locked:  # PostgreSQL: a desk never waits for a row another desk is taking
        candidate = candidate.with_for_update(skip_locked=True, of=Case)
    return (
        update(Case)
        .where(Case.id == candidate.scalar_subquery(), _FREE)
        .values(claimed_by=bindparam("who"), claimed_until=bindparam("until"))
        # SQLite scans the customers for a subquery in RETURNING: callable_now reads it there.
        .returning(Case.id, Case.recall_id, Case.call_zone, Case.customer_id,
                   _COUNTRY if skip_locked else null().label("country"))
    )  # fmt: skip


def hold_claim(session: Session, case_id: int, who: str, now: dt.datetime) -> bool:
    """Take or extend the claim on one case; False when another desk holds it."""
    values = {"case_id": case_id, "who": who, "now": now, "until": now + CLAIM_FOR}
    claimed = session.connection().execute(_HOLD, values)
    return bool(claimed.rowcount)


def claim_case(
    *,
    engine: Engine,
    agent_id: str,
    case_id: int,
    desk: str = "",
    inbound: bool = False,
    clock: Clock = utc_now,
) -> CaseCard:
    """Open one case to work it: the agent's own, or any case when the customer called in."""
    who, now = claimant(agent_id, desk), clock()
    with Session(engine) as session, session.begin():
        check_active(session, agent_id)
        found = session.execute(_HELD_CASE, {"case_id": case_id}).first()
        if found is None:
            raise NotYourCase("no such case")
        hold_for_desk(session, found.Case, found.closed_at, agent_id=agent_id, who=who,
                      now=now, inbound=inbound)  # fmt: skip
        return card_for(session, case_id)


FRESH = dt.timedelta(minutes=1)  # a claim younger than this is not extended by opening the case


def hold_for_desk(
    session: Session,
    case: Case,
    closed_at: dt.datetime | None,
    *,
    agent_id: str,
    who: str,
    now: dt.datetime,
    inbound: bool,
) -> dt.datetime:
    """Check this desk may work `case` (on its agent's list, or any case for a customer who
    called in; its recall not closed, `closed_at`) and hold it; when the claim runs out.

    A claim this desk took less than FRESH ago (the save before claimed it) is kept as it is:
    no other desk can take the case meanwhile, and opening it then writes nothing."""
    if not inbound and case.agent_id != agent_id:
        raise NotYourCase(f"case {case.case_ref} is not on the list of agent {agent_id}")
    if closed_at is not None:  # its figures are final: nothing more is recorded
        raise WorkError(f"case {case.case_ref}: its recall is closed")
    until = case.claimed_until
    if case.claimed_by == who and until is not None and until >= now + CLAIM_FOR - FRESH:
        return until
    if not hold_claim(session, case.id, who, now):
        raise WorkError("another desk is working this case right now")
    return now + CLAIM_FOR


def release_case(*, engine: Engine, agent_id: str, case_id: int, desk: str = "") -> None:
    """Let go of a claimed case without recording anything (it goes back to the queue)."""
    with Session(engine) as session, session.begin():
        session.execute(
            update(Case)
            .where(Case.id == case_id, Case.claimed_by == claimant(agent_id, desk))
            .values(claimed_by=None, claimed_until=None)
        )


def hold_case(session: Session, case_id: int, agent_id: str, who: str, now: dt.datetime) -> Case:
    """Hold the case for this desk, first statement of the transaction (a write lock on SQLite,
    a row lock on PostgreSQL); the agent must own it or already hold it (an inbound call)."""
    values = {"case_id": case_id, "who": who, "now": now, "until": now + CLAIM_FOR,
              "agent_id": agent_id}  # fmt: skip
    held = session.connection().execute(_HOLD_MINE, values).rowcount
    check_active(session, agent_id)  # after the update: its lock is the transaction's first
    found = session.execute(_HELD_CASE, {"case_id": case_id}).first()
    if found is None:
        raise NotYourCase("no such case")
    case, closed_at, stored = found
    known_definition(session, case.recall_id, stored)  # read with the case: not again
    if not held and case.agent_id != agent_id and case.claimed_by != who:
        raise NotYourCase(f"case {case.case_ref} is not on the list of agent {agent_id}")
    if not held:
        raise WorkError(f"case {case.case_ref} is being worked at another desk right now")
    if closed_at is not None:
        raise WorkError(f"case {case.case_ref}: its recall is closed")  # rolled back: unheld
    return case


def take_over(session: Session, case: Case, agent_id: str, now: dt.datetime) -> None:
    """The customer called in and this agent answered: the case leaves its old agent's list,
    but for an escalation, which stays with its specialist when this agent lacks the skill."""
    if case.agent_id == agent_id or stays_with_specialist(session, case, agent_id):
        return
    note = f"customer called the hotline: case taken over by agent {agent_id}"
    if case.agent_id:
        note += f" from agent {case.agent_id}"
    case.agent_id, case.callback_agent = agent_id, None
    record_move(session, case, actor=agent_id, channel="hotline", note=note, clock=lambda: now)
