"""Closing a recall: final report, off the call list, personal data pseudonymised later."""

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.calling.assignment import assign_call_list
from recall.calling.claiming import claim_case
from recall.calling.outcomes import record_disposition
from recall.calling.queue import on_call_list
from recall.db.models import CallAttempt, Case, CaseEvent, Fulfilment, Incident, Recall, RecallBuyer
from recall.remedies.fulfilment import FulfilmentInput, record_fulfilment
from recall.remedies.incidents import IncidentReport, record_incident
from recall.reporting.closing import ClosingError, close_recall, purge_due, purge_personal_data
from recall.reporting.completion import completion
from recall.reporting.effectiveness import draw_checks
from recall.reporting.overview import open_recall_ids
from recall.settings import PROJECT_TEMPLATES
from tests.support import agent, callers, seed
from tests.support import launch as launch_sample

DAY0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
RECALL = "R-2026-014"


@pytest.fixture
def closed(engine, tmp_path):
    seed(engine, *callers(3), agent("A1"))
    launch_sample(engine, clock=lambda: DAY0, follow_up={"retention": "30d"})
    assign_call_list(engine=engine, recall_id=RECALL, home_language="fr", clock=lambda: DAY0)
    with Session(engine) as session:
        first = session.scalars(select(Case).order_by(Case.id)).first()
    claim_case(engine=engine, agent_id="A1", case_id=first.id, clock=lambda: DAY0)
    record_disposition(
        engine=engine, agent_id="A1", case_id=first.id, disposition="reached", outcome="refund",
        note="Mme Lefèvre, 06 12 34 56 78", clock=lambda: DAY0,
    )  # fmt: skip
    ref = first.case_ref
    paid = FulfilmentInput(ref, "refund_paid", "2026-11-23", amount="49.90",
                           done_by="Mme Lefèvre's bank", reference="IBAN FR76")  # fmt: skip
    record_fulfilment(engine=engine, actor="lead", source="cli", clock=lambda: DAY0, given=paid)
    said = IncidentReport(ref, "burn", "none", "2026-11-20", "Mme Lefèvre, 3 rue X")
    record_incident(engine=engine, actor="lead", channel="cli", clock=lambda: DAY0, given=said)
    draw_checks(engine=engine, recall_id=RECALL, out_dir=tmp_path / "data" / "checks" / RECALL,
                clock=lambda: DAY0)  # fmt: skip
    letters = tmp_path / "data" / "letters" / RECALL
    letters.mkdir(parents=True)
    (letters / "letters-0001.pdf").write_bytes(b"%PDF names and addresses")
    (letters / "posters").mkdir()
    (letters / "posters" / "poster-S001.pdf").write_bytes(b"%PDF public")
    done = close_recall(
        engine=engine, recall_id=RECALL, out_dir=tmp_path / "final",
        fonts_dir=PROJECT_TEMPLATES / "fonts", clock=lambda: DAY0 + dt.timedelta(days=1),
    )  # fmt: skip
    return done, tmp_path / "data"


def test_closing_writes_the_final_report_and_empties_the_call_list(engine, closed):
    done, _ = closed
    assert done.report.pdf.exists() and done.left_call_list == 2
    assert done.purge_after == DAY0 + dt.timedelta(days=31)
    with Session(engine) as session:
        assert not session.scalars(select(Case.id).where(on_call_list(RECALL))).all()
        assert session.get(Recall, RECALL).closed_at == DAY0 + dt.timedelta(days=1)
    assert open_recall_ids(engine=engine) == []  # the scheduled flows leave it alone
    with pytest.raises(ClosingError, match="was closed on 2026-11-24"):
        close_recall(engine=engine, recall_id=RECALL, out_dir=done.report.pdf.parent,
                     fonts_dir=PROJECT_TEMPLATES / "fonts")  # fmt: skip


def test_personal_data_is_kept_for_the_retention_period_then_pseudonymised(engine, closed):
    _, data_dir = closed
    before = completion(engine=engine, recall_id=RECALL)
    early = DAY0 + dt.timedelta(days=30)
    assert purge_due(engine=engine, now=early) == []
    with pytest.raises(ClosingError, match="kept until 2026-12-24"):
        purge_personal_data(engine=engine, recall_id=RECALL, data_dir=data_dir,
                            clock=lambda: early)  # fmt: skip
    late = DAY0 + dt.timedelta(days=31)
    assert purge_due(engine=engine, now=late) == [RECALL]
    purged = purge_personal_data(engine=engine, recall_id=RECALL, data_dir=data_dir,
                                 clock=lambda: late)  # fmt: skip
    assert (purged.cases, purged.files_removed) == (3, 2)  # a letters file, a check list
    with Session(engine) as session:
        cases = session.scalars(select(Case)).all()
        assert all(c.phone_e164 is None and c.customer_id.startswith("anon-") for c in cases)
        assert len({c.customer_id for c in cases}) == 3
        assert not any(session.scalars(select(CaseEvent.note)).all())
        assert not any(session.scalars(select(CallAttempt.note)).all())
        assert not session.scalars(select(RecallBuyer)).all()
        assert session.scalars(select(Incident.text)).all() == [None]
        fulfilled = session.scalars(select(Fulfilment)).one()
        assert (fulfilled.done_by, fulfilled.reference, fulfilled.amount) == (None, None, "49.90")
    assert not (data_dir / "checks" / RECALL).exists()
    assert not (data_dir / "letters" / RECALL / "letters-0001.pdf").exists()
    assert (data_dir / "letters" / RECALL / "posters" / "poster-S001.pdf").exists()
    after = completion(engine=engine, recall_id=RECALL)
    assert (after.total, after.outcomes, after.by_channel) == (
        before.total, before.outcomes, before.by_channel,
    )  # fmt: skip
    assert purge_due(engine=engine, now=late) == []
