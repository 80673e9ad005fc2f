"""A recall driven through simulated days, then its progress report checked figure by figure
against counts kept by the test itself."""

import datetime as dt
import os
import re

import pandas as pd
import pypdfium2
import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.calling.assignment import assign_call_list
from recall.calling.claiming import claim_case
from recall.calling.outcomes import record_disposition
from recall.db.models import Case
from recall.domain.forecast import calls_per_case
from recall.notices.mailing import mark_mailed, record_returned
from recall.remedies.fulfilment import FulfilmentInput, record_fulfilment
from recall.reporting.files import write_progress_report
from recall.reporting.progress_pdf import write_progress_pdf
from recall.settings import PROJECT_TEMPLATES
from tests.support import agent, callers, customer, line, seed
from tests.support import launch as launch_sample
from tests.test_letters import config_for, make_letters

DAY0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # Monday, 10:00 in Paris
RECALL = "R-2026-014"
DOCS = PROJECT_TEMPLATES.parent / "docs"


def at(days: float, hours: float = 0) -> dt.datetime:
    return DAY0 + dt.timedelta(days=days, hours=hours)


def call(engine, customer_id, when, disposition, outcome=None, **more):
    with Session(engine) as session:
        case = session.scalars(select(Case).where(Case.customer_id == customer_id)).one()
    claim_case(engine=engine, agent_id=case.agent_id, case_id=case.id, clock=lambda: when)
    record_disposition(
        engine=engine, agent_id=case.agent_id, case_id=case.id, disposition=disposition,
        outcome=outcome, clock=lambda: when, **more,
    )  # fmt: skip


@pytest.fixture
def files(engine, tmp_path):
    seed(
        engine, *callers(6), agent("A1"), agent("A2"),
        customer("WRITTEN", postal_code="01000"), line("WRITTEN", "2026-02-01", quantity=2),
        customer("RETURNED", phone="06 70 00 00 02", postal_code="02000"),
        line("RETURNED", "2026-02-01"),
        customer("NOPHONE", postal_code="03000"), line("NOPHONE", "2026-02-01"),
        line(None, "2026-02-02", quantity=3),
    )  # fmt: skip
    recall = launch_sample(engine, clock=lambda: DAY0)
    assign_call_list(engine=engine, recall_id=RECALL, home_language="fr", clock=lambda: DAY0)
    make_letters(engine, recall, config_for(tmp_path))
    mark_mailed(engine=engine, recall_id=RECALL, clock=lambda: DAY0)
    call(engine, "C00000", at(0, 1), "reached", "refund")
    call(engine, "C00001", at(0, 2), "no_answer")
    call(engine, "C00002", at(0, 3), "reached", "declined")
    call(engine, "C00001", at(1, 1), "reached", "replacement")
    call(engine, "C00003", at(1, 2), "reached", "not_in_possession")
    call(engine, "C00005", at(1, 3), "callback_requested", callback_at=at(2))
    returned = tmp_path / "returned.csv"
    with Session(engine) as session:
        ref = session.scalar(select(Case.case_ref).where(Case.customer_id == "RETURNED"))
    returned.write_text(f"case_ref\n{ref}\n")
    record_returned(engine=engine, path=returned, clock=lambda: at(2))
    assign_call_list(engine=engine, recall_id=RECALL, home_language="fr", clock=lambda: at(2))
    call(engine, "C00004", at(7, 1), "reached", "repair")
    call(engine, "RETURNED", at(7, 2), "reached", "refund")
    # Each remedy agreed is carried out: two in the first week, two in the second.
    carried_out = (("C00000", "refund_paid", 1), ("C00001", "replacement_shipped", 3),
                   ("C00004", "repair_done", 7), ("RETURNED", "refund_paid", 8))  # fmt: skip
    for who, kind, day in carried_out:
        with Session(engine) as session:
            ref = session.scalar(select(Case.case_ref).where(Case.customer_id == who))
        record_fulfilment(
            engine=engine, actor="lead", source="cli", clock=lambda: at(8),
            given=FulfilmentInput(ref, kind, at(day).date().isoformat(), amount="49.90"
                                  if kind == "refund_paid" else ""),
        )  # fmt: skip
    return write_progress_report(
        engine=engine, recall_id=RECALL, out_dir=tmp_path / "report",
        fonts_dir=PROJECT_TEMPLATES / "fonts", clock=lambda: at(8),
    )  # fmt: skip


def test_the_funnel_units_and_burn_down_match_what_happened(files):
    report = files.progress
    total = report.completion.total
    # 9 cases: 6 callers and 3 letters; only C00005's callback keeps it open on the call list.
    # Notified 8: C00005 only asked for a callback, which notifies nobody (RETURNED's letter came
    # back, but the call that reached it later notified it).
    assert (total.identified, total.notified, total.contacted, total.resolved) == (9, 8, 6, 5)
    assert (total.declined, total.unreachable) == (1, 0)
    assert report.completion.outcomes == {
        "declined": 1, "not_in_possession": 1, "refund": 2, "repair": 1, "replacement": 1,
    }  # fmt: skip
    # Units: 6 callers x 1, WRITTEN 2, RETURNED 1, NOPHONE 1, 3 sold without a card.
    assert (report.units.affected, report.units.untraceable) == (13, 3)
    assert (report.units.corrected, report.units.not_in_possession) == (4, 1)
    assert report.units.effectiveness == pytest.approx(4 / 13)
    closed_by_day = {0: 2, 1: 2, 7: 2}  # resolved or declined on those days
    expected, left = [], 9
    for day in range(9):
        left -= closed_by_day.get(day, 0)
        expected.append((at(day).date(), left))
    assert report.burn_down == expected


def test_the_regulator_figures_per_week_and_cumulated(files):
    week1, week2 = files.progress.periods
    assert (week1.start, week1.end) == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    # Week 1: 3 letters posted, RETURNED's came back undelivered: 2 notices by mail; calls
    # reached C00000-3 (C00001 after a no-answer); C00005's callback request notifies nobody.
    assert (week1.notified_mail, week1.notified_phone, week1.answered) == (2, 4, 4)
    assert (week1.units_corrected, week1.notified_sms, week1.notified_email) == (2, 0, 0)
    # Week 2: first calls to C00004 and RETURNED, both reached, both corrected.
    assert (week2.notified_mail, week2.notified_phone, week2.answered, week2.units_corrected) == (
        0, 2, 2, 2,
    )  # fmt: skip
    regulator = pd.read_csv(files.csvs["regulator"])
    assert regulator["cumulative_units_corrected"].tolist() == [2, 4]
    assert regulator["cumulative_answered"].tolist() == [4, 6]
    assert regulator["units_affected"].tolist() == [13, 13]


def test_the_forecast_follows_the_pace_measured(files):
    forecast = files.progress.forecast
    assert forecast.cases_left == 1 and forecast.agents == 2
    assert forecast.contact_rate == pytest.approx(6 / 8)  # 8 calls recorded, 6 reached
    assert forecast.calls_needed == pytest.approx(calls_per_case(0.75, 5))
    assert not forecast.measured  # no call was timed: the default handle time is used
    assert forecast.done_by is not None and forecast.done_by >= at(8)


def pdf_text(path) -> str:
    """The PDF's words on one line, its spaces (narrow non-breaking ones too) made plain."""
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in PdfReader(path).pages))


def test_the_pdf_shows_the_figures_in_french_and_is_rendered_for_the_docs(files, tmp_path):
    text = pdf_text(files.pdf)
    assert "R-2026-014 - Perceuse X200" in text
    assert "4 / 13" in text and "30,8 %" in text  # units corrected, effectiveness
    assert "Rapport d'avancement au 1 déc. 2026 10:00 (heure de Paris)" in text
    assert "lancé le 23 novembre 2026" in text
    assert "Rapport d'avancement pour l'autorité" in text and "23/11-29/11" in text
    assert "Appels tentés" in text and "Unités concernées" in text
    assert "Prévision" in text and "dossier restant sur la liste d'appels" in text
    assert "Regulator" not in text and "Forecast" not in text
    assert "+33" not in text  # figures only
    image = (
        DOCS if os.environ.get("RECALL_UPDATE_DOCS") == "1" else tmp_path
    ) / "progress-report.png"
    pypdfium2.PdfDocument(str(files.pdf))[0].render(scale=1.4).to_pil().save(image)
    assert image.stat().st_size > 20_000  # `make screenshots` writes it into docs/


def test_the_pdf_in_english_says_the_same_figures_in_english(files, tmp_path):
    english = write_progress_pdf(files.progress, tmp_path / "progress.en.pdf",
                                 PROJECT_TEMPLATES / "fonts", language="en")  # fmt: skip
    text = pdf_text(english)
    assert "4 / 13" in text and "30.8%" in text
    assert "Progress report as of Dec 1, 2026 10:00 AM (Paris time)" in text
    assert "Regulator progress report" in text and "11/23-11/29" in text
    assert "1 case left on the call list" in text and "Units affected" in text
    assert "Rapport" not in text and "+33" not in text
