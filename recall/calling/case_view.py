"""Opening a case at the agent's desk: the claim and everything its page shows, read in one
transaction (a handful of statements, where a read per panel took four times as many)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import Engine, bindparam, select
from sqlalchemy.orm import Session, contains_eager

from recall.calling.agent_queue import HistoryLine, history_in
from recall.calling.case_card import CaseCard, card_of
from recall.calling.claiming import NotYourCase, check_active, claimant, hold_for_desk
from recall.calling.corrections import ContactCard, contact_card_of
from recall.calling.escalations import Escalation, escalation_in
from recall.calling.other_cases import OtherCase, other_cases_in
from recall.calling.queue import held_by
from recall.calling.script import SpokenNames
from recall.calling.web_answer import RecordedAnswer, latest_answer
from recall.campaign.definitions import stored_definition
from recall.clock import Clock, utc_now
from recall.db.models import Case, Customer, Recall
from recall.domain.definition import RecallDefinition


@dataclass(frozen=True)
class CaseView:
    """What the agent's page of a case shows, as read when it was opened."""

    card: CaseCard
    definition: RecallDefinition
    names: SpokenNames  # the agent's and the customer's, as the script says them
    postal_code: str  # for the inbound script's identity check ("-": none on file)
    history: list[HistoryLine]
    web_answer: RecordedAnswer | None
    escalation: Escalation | None
    contacts: ContactCard
    other_recalls: tuple[OtherCase, ...]


_CASE = (
    select(Case, Customer, Recall)
    .join(Customer, Customer.customer_id == Case.customer_id)
    .join(Recall, Recall.id == Case.recall_id)
    .outerjoin(*held_by())
    .options(contains_eager(Case.holder))  # the list it is on, read in the same statement
    .where(Case.id == bindparam("case_id"))
)


def open_case(
    *,
    engine: Engine,
    agent_id: str,
    case_id: int,
    username: str,
    desk: str = "",
    inbound: bool = False,
    clock: Clock = utc_now,
) -> CaseView:
    """Claim one case for this desk (the agent's own, or any case when the customer called
    in, as `claim_case`) and read what its page shows."""
    who, now = claimant(agent_id, desk), clock()
    with Session(engine) as session, session.begin():
        agent_name = check_active(session, agent_id)
        found = session.execute(_CASE, {"case_id": case_id}).first()
        if found is None:
            raise NotYourCase("no such case")
        case, customer, recall = found
        until = hold_for_desk(session, case, recall.closed_at, agent_id=agent_id, who=who,
                              now=now, inbound=inbound)  # fmt: skip
        return _view(session, case, customer, recall, agent_name or username, until)


def _view(
    session: Session, case: Case, customer: Customer, recall: Recall, agent: str,
    until: dt.datetime,
) -> CaseView:  # fmt: skip
    history, recorded = history_in(session, case.id)
    card = card_of(case, customer, recall, recorded)
    spoken = " ".join(p.strip() for p in (customer.first_name, customer.last_name)
                      if p and p.strip())  # fmt: skip
    return CaseView(
        card=replace(card, claimed_until=until),
        definition=stored_definition(recall),
        names=SpokenNames(agent=agent.strip(), customer=spoken or None),
        postal_code=customer.postal_code or "-",
        history=history,
        web_answer=latest_answer(session, case.id),
        escalation=escalation_in(session, case.id, case.status, case.escalation_reason),
        contacts=contact_card_of(customer),
        other_recalls=other_cases_in(session, case.id, case.customer_id),
    )
