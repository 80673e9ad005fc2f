"""An agent's call list on paper or for another dialer: their open cases, in calling order."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, case, select
from sqlalchemy.orm import Session

from recall.calling.queue import held_by, listed_for, on_call_list
from recall.calling.sheet_pdf import SheetFiles, SheetRow, write_call_sheet
from recall.campaign.definitions import definition_of
from recall.clock import Clock, utc_now
from recall.db.models import Agent, Case, Customer
from recall.domain.errors import NotFound


def write_agent_sheet(
    *,
    engine: Engine,
    recall_id: str,
    agent_id: str,
    out_dir: Path,
    fonts_dir: Path,
    clock: Clock = utc_now,
) -> SheetFiles:
    """Write the agent's open cases of the recall as PDF and CSV, callbacks first."""
    now = clock()
    with Session(engine) as session:
        agent = session.get(Agent, agent_id)
        if agent is None:
            raise NotFound(f"no agent {agent_id!r}: import the agents file first")
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
        hotline=definition.hotline,
    )  # fmt: skip


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
        callback_at=_local(case.callback_at, case.call_zone),
        status=case.status,
    )


def _local(at: dt.datetime | None, zone: str | None) -> str:
    if at is None:
        return ""
    name = zone or "UTC"
    return f"{at.astimezone(ZoneInfo(name)):%Y-%m-%d %H:%M} {name}"
