"""An agent's call list on paper or for another dialer: their open cases, in calling order,
in the agent's language and on their clock (the ones their console user chose, else the
home ones)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, case, select
from sqlalchemy.orm import Session

from recall.calling.queue import held_by, listed_for, on_call_list
from recall.calling.sheet_pdf import SheetFiles, SheetRow, write_call_sheet
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import Agent, Case, Customer, User
from recall.domain.errors import NotFound


def write_agent_sheet(
    *,
    engine: Engine,
    recall_id: str,
    agent_id: str,
    out_dir: Path,
    fonts_dir: Path,
    clock: Clock = utc_now,
    language: str | None = None,
    home_language: str = "fr",
    home_zone: str = "Europe/Paris",
) -> SheetFiles:
    """Write the agent's open cases of the recall as PDF and CSV, callbacks first; the PDF in
    `language`, else the one the agent chose for the console, else the home one."""
    now = clock()
    with Session(engine) as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise NotFound(f"no agent {agent_id!r}: import the agents file first")
        chosen, zone = _console_choices(session, agent_id)
        definition = definition_of(session, recall_id)
        found = session.execute(
            select(Case, Customer.first_name, Customer.last_name)
            .join(Customer, Customer.customer_id == Case.customer_id)
            .join(*held_by())
            .where(on_call_list(recall_id), listed_for(agent_id))
            .order_by(
                case((Case.callback_at.is_(None), 1), else_=0), Case.callback_at, Case.priority
            )
        ).all()
        rows = [_row(n, *row) for n, row in enumerate(found, start=1)]
    return write_call_sheet(
        rows=rows, recall_id=recall_id, recall_title=definition.title, agent_id=agent_id,
        agent_name=agent.name, out_dir=out_dir, fonts_dir=fonts_dir, generated_at=now,
        hotline=definition.hotline, language=language or chosen or home_language,
        zone=zone or home_zone,
    )  # fmt: skip


def _console_choices(session: Session, agent_id: str) -> tuple[str | None, str | None]:
    """The language and the clock the agent chose for the console, if they did."""
    found = session.execute(
        select(User.language, User.time_zone)
        .where(User.agent_id == agent_id, User.active.is_(True))
        .order_by(User.username)
        .limit(1)
    ).first()
    return (found[0], found[1]) if found else (None, None)


def _row(position: int, case: Case, first: str | None, last: str | None) -> SheetRow:
    return SheetRow(
        position=position,
        case_ref=case.case_ref,
        customer=" ".join(p for p in (first, last) if p) or case.customer_id,
        phone=case.phone_e164 or "",
        language=case.language,
        quantity=case.quantity,
        lots=case.lots.replace(",", ", "),
        last_purchase=case.last_purchase,
        attempts=case.attempts,
        callback_at=case.callback_at,
        status=case.status,
        call_zone=case.call_zone,
    )
