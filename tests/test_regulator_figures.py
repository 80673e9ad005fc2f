"""A recall driven through everything that happens to its cases (unanswered calls, voicemails,
a wrong number, a do-not-call, returned letters, returns at the till, a hotline call,
fulfilment files, incidents, effectiveness checks), then every figure of the progress
report, of the regulator's CSV and of the monthly report checked against counts kept by the
test as it went."""

import datetime as dt
import os
import random
from collections import Counter

import pandas as pd
import pypdfium2
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recall.calling.assignment import assign_call_list
from recall.calling.claiming import claim_case
from recall.calling.outcomes import record_disposition
from recall.db.models import Case, CaseEvent, Fulfilment
from recall.domain.cases import replay
from recall.notices.mailing import mark_mailed, record_returned
from recall.remedies.fulfilment import FulfilmentInput, record_fulfilment
from recall.remedies.fulfilment_file import import_fulfilments
from recall.remedies.incidents import IncidentReport, record_incident
from recall.remedies.till import apply_till_returns
from recall.reporting import effectiveness
from recall.reporting.files import write_progress_report
from recall.reporting.monthly import monthly_report, write_monthly_report
from recall.settings import PROJECT_TEMPLATES
from tests.support import agent, callers, customer, line, seed
from tests.support import launch as launch_sample
from tests.test_letters import config_for, make_letters

DAY0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)  # Monday, 10:00 in Paris
RECALL = "R-2026-014"
FONTS = PROJECT_TEMPLATES / "fonts"
DOCS = PROJECT_TEMPLATES.parent / "docs"


def at(days: float, hours: float = 0) -> dt.datetime:
    return DAY0 + dt.timedelta(days=days, hours=hours)


class Kept:
    """What the test did, counted as it went: the figures the reports must show."""

    def __init__(self) -> None:
        self.notified: dict[str, str] = {}  # customer -> channel of the notice that stands
        self.contacted: set[str] = set()
        self.resolved: set[str] = set()
        self.calls = 0
        self.outcomes: Counter[str] = Counter()
        self.fulfilled: Counter[str] = Counter()  # kind -> units
        self.fulfilled_on: dict[str, dt.date] = {}  # kind -> day
        self.consumer_contacts: Counter[str] = Counter()  # channel -> customers


def ref_of(engine, customer_id: str) -> str:
    with Session(engine) as session:
        return session.scalar(select(Case.case_ref).where(Case.customer_id == customer_id))


def case_of(engine, customer_id: str) -> Case:
    with Session(engine) as session:
        return session.scalars(select(Case).where(Case.customer_id == customer_id)).one()


def call(engine, kept: Kept, customer_id, when, disposition, outcome=None, inbound=False, **more):
    case = case_of(engine, customer_id)
    agent_id = "A1" if inbound else case.agent_id
    claim_case(engine=engine, agent_id=agent_id, case_id=case.id, inbound=inbound,
               clock=lambda: when)  # fmt: skip
    record_disposition(
        engine=engine, agent_id=agent_id, case_id=case.id, disposition=disposition,
        outcome=outcome, inbound=inbound, clock=lambda: when, **more,
    )  # fmt: skip
    kept.calls += 1
    if disposition in ("reached", "do_not_call"):
        kept.notified.setdefault(customer_id, "hotline" if inbound else "phone")
        kept.contacted.add(customer_id)
        if inbound:
            kept.consumer_contacts["hotline"] += 1
    if outcome:
        kept.outcomes[outcome] += 1
        if outcome in ("refund", "replacement", "repair", "not_in_possession"):
            kept.resolved.add(customer_id)
    if disposition == "do_not_call":
        kept.outcomes["do_not_call"] += 1


@pytest.fixture
def recall_run(engine, tmp_path):
    """Two weeks of a recall: every kind of event, and the test's own counts."""
    kept = Kept()
    seed(
        engine, *callers(10), agent("A1"), agent("A2"), agent("H1", skills="health"),
        customer("L1", postal_code="01000"), customer("L2", phone="06 70 00 00 02",
                                                       postal_code="02000"),
        customer("L3", postal_code="03000"), customer("L4", postal_code="04000"),
        *[line(f"L{n}", "2026-02-01") for n in range(1, 5)],
        customer("N1", address_line1=None), line("N1", "2026-02-01"),
        line(None, "2026-02-02", quantity=3),
    )  # fmt: skip
    recall = launch_sample(engine, clock=lambda: DAY0, effectiveness={"level": "B", "share": 0.5})
    assign_call_list(engine=engine, recall_id=RECALL, home_language="fr", clock=lambda: DAY0)
    make_letters(engine, recall, config_for(tmp_path))
    mark_mailed(engine=engine, recall_id=RECALL, clock=lambda: at(0, 1))
    kept.notified |= {f"L{n}": "letter" for n in range(1, 5)}

    # Day 0: attempts that reach nobody, a wrong number, a do-not-call, remedies agreed.
    for hours, disposition in ((1, "no_answer"), (2, "busy"), (3, "voicemail")):
        call(engine, kept, "C00000", at(0, hours), disposition)
    call(engine, kept, "C00001", at(0, 1), "wrong_number")  # no address: unreachable
    call(engine, kept, "C00002", at(0, 2), "do_not_call")
    call(engine, kept, "C00003", at(0, 3), "reached", "refund")
    call(engine, kept, "C00004", at(0, 4), "reached", "replacement")
    call(engine, kept, "C00005", at(0, 5), "reached", "repair")
    call(engine, kept, "C00006", at(0, 6), "reached", callback_at=at(3))
    call(engine, kept, "C00007", at(0, 7), "reached", "refund")
    # Day 1: two letters come back; L2 has a phone and goes to the call list, L3 ends.
    returned = tmp_path / "returned.csv"
    returned.write_text(f"case_ref\n{ref_of(engine, 'L2')}\n{ref_of(engine, 'L3')}\n")
    record_returned(engine=engine, path=returned, clock=lambda: at(1))
    del kept.notified["L2"], kept.notified["L3"]
    assign_call_list(engine=engine, recall_id=RECALL, home_language="fr", clock=lambda: at(1))
    call(engine, kept, "L2", at(1, 2), "reached", "refund")
    # Day 2: C00000 calls the hotline herself and agrees a refund.
    call(engine, kept, "C00000", at(2, 1), "reached", "refund", inbound=True)
    # Day 3: returns at the till, imported with the next loyalty export.
    seed(
        engine,
        line("C00008", "2026-11-25", quantity=-1, store_id="S002"),  # covered lot
        line("L4", "2026-11-26", quantity=-1, lot=None, store_id="S001"),  # lot not recorded
        line("C00009", "2026-11-26", quantity=-1, lot="X9999"),  # another lot: not ours
        line("C00003", "2026-03-02", quantity=-1),  # before the launch: netted already
    )  # fmt: skip
    for _ in range(2):  # a second pass finds nothing new
        apply_till_returns(engine=engine, recall_id=RECALL, clock=lambda: at(3))
    for who in ("C00008", "L4"):  # L4 had her letter; C00008 had not been reached yet
        kept.notified.setdefault(who, "store")
        kept.contacted.add(who)
        kept.resolved.add(who)
        kept.outcomes["returned_in_store"] += 1
        kept.consumer_contacts["store"] += 1
    kept.fulfilled["returned_to_store"] += 2
    kept.fulfilled_on["returned_to_store"] = dt.date(2026, 11, 26)
    # Day 4: incidents: C00009 was burned before the launch (escalated to the health
    # specialist); C00007 reports a scorched worktop after the launch.
    record_incident(engine=engine, actor="lead", channel="console", clock=lambda: at(4), given=
                    IncidentReport(ref_of(engine, "C00009"), "burn", "injury", "2026-11-20",
                                   "burned hand while charging"))  # fmt: skip
    kept.notified["C00009"] = "console"
    kept.contacted.add("C00009")
    kept.outcomes["escalated"] += 1
    record_incident(engine=engine, actor="A1", channel="phone", clock=lambda: at(4), given=
                    IncidentReport(ref_of(engine, "C00007"), "scorch", "property_damage",
                                   "2026-11-24"))  # fmt: skip
    # Fulfilment: one by hand in November, a file from the retailer in December, twice.
    record_fulfilment(
        engine=engine, actor="lead", source="console", clock=lambda: at(4),
        given=FulfilmentInput(ref_of(engine, "C00004"), "replacement_shipped", "2026-11-27"),
    )  # fmt: skip
    kept.fulfilled["replacement_shipped"] += 1
    fulfilments = tmp_path / "fulfilments.csv"
    fulfilments.write_text(
        "case_ref;kind;done_on;amount;done_by\n"
        f"{ref_of(engine, 'C00003')};refund_paid;02/12/2026;49,90;Magasin S001\n"
        f"{ref_of(engine, 'L2')};refund_paid;2026-12-02;49.90;\n"
        f"{ref_of(engine, 'C00005')};refund_paid;2026-12-02;49.90;\n"  # agreed a repair
        "R-2026-014-999999;refund_paid;2026-12-02;49.90;\n"  # no such case
        f"{ref_of(engine, 'C00007')};refund_paid;2026-13-40;49.90;\n",  # no such day
        encoding="utf-8",
    )
    first = import_fulfilments(engine=engine, path=fulfilments, actor="lead", clock=lambda: at(10))
    again = import_fulfilments(engine=engine, path=fulfilments, actor="lead", clock=lambda: at(10))
    kept.fulfilled["refund_paid"] += 2
    kept.fulfilled_on["refund_paid"] = dt.date(2026, 12, 2)
    # The effectiveness check: half of those notified, two checks made.
    drawn = effectiveness.draw_checks(engine=engine, recall_id=RECALL, out_dir=tmp_path / "checks",
                                      clock=lambda: at(10), rng=random.Random(7))  # fmt: skip
    listed = pd.read_csv(drawn.check_list, dtype=str)
    effectiveness.record_check(engine=engine, case_ref=listed.case_ref[0], answered=True,
                               received="yes", acted="yes", actor="A1",
                               clock=lambda: at(10, 1))  # fmt: skip
    effectiveness.record_check(engine=engine, case_ref=listed.case_ref[1], answered=False,
                               actor="A1", clock=lambda: at(10, 2))  # fmt: skip
    report = write_progress_report(engine=engine, recall_id=RECALL, out_dir=tmp_path / "report",
                                   fonts_dir=FONTS, clock=lambda: at(11))  # fmt: skip
    return kept, report, (first, again), drawn


def test_notified_counts_only_notices_that_reached_the_customer(engine, recall_run):
    kept, files, _, _ = recall_run
    total = files.progress.completion.total
    assert total.identified == 15  # 10 callers, 4 letters, 1 notice only
    assert total.notified == len(kept.notified)
    assert total.contacted == len(kept.contacted)
    assert total.resolved == len(kept.resolved)
    assert total.unreachable == 2  # C00001's wrong number, L3's letter back without a phone
    with Session(engine) as session:
        notified_by = dict(
            session.execute(select(Case.customer_id, Case.notified_by)).tuples().all()
        )
        # C00000: three attempts, then the hotline; C00001: a wrong number: never notified.
        assert notified_by["C00001"] is None and notified_by["L3"] is None
        assert {c: v for c, v in notified_by.items() if v} == kept.notified
        for case in session.scalars(select(Case)):  # every status is still its log's result
            events = session.scalars(
                select(CaseEvent.new_status).where(CaseEvent.case_id == case.id)
                .order_by(CaseEvent.id)
            ).all()  # fmt: skip
            assert replay(list(events)) == case.status


def test_the_channel_is_the_one_the_case_started_with_and_moves_are_counted(recall_run):
    _, files, _, _ = recall_run
    report = files.progress.completion
    assert {k: f.identified for k, f in report.by_channel.items()} == {
        "call": 10, "letter": 4, "notice": 1,
    }  # fmt: skip
    assert report.moves == {
        ("call", "notice"): 2,  # the wrong number (unreachable) and the do-not-call
        ("letter", "call"): 1,  # L2's letter came back; she had a phone
        ("letter", "notice"): 1,  # L3's letter came back; no phone
    }
    assert report.by_channel["notice"].notified == 0
    assert report.outcomes["do_not_call"] == 1 and "declined" not in report.outcomes
    assert report.by_channel["call"].declined == 0


def test_units_count_as_corrected_only_once_carried_out(recall_run):
    kept, files, (first, again), _ = recall_run
    units = files.progress.units
    assert units.affected == 15 + 3 and units.untraceable == 3
    assert units.by_kind == dict(kept.fulfilled)
    assert units.corrected == sum(kept.fulfilled.values())
    # Agreed and not carried out: C00005's repair, C00007's refund, C00000's refund.
    assert (units.agreed.cases, units.agreed.units) == (3, 3)
    assert units.agreed.oldest_days == pytest.approx(11 - 5 / 24)  # C00005, day 0 at +5 h
    assert (first.recorded, first.already, first.rejected) == (2, 0, 3)
    assert (again.recorded, again.already, again.rejected) == (0, 2, 3)
    reasons = pd.read_csv(first.rejects_file, dtype=str).reject_reason.tolist()
    assert "agreed a repair, not a refund" in reasons[0]
    assert "no case has the reference" in reasons[1] and "not a date" in reasons[2]


def test_till_returns_close_each_case_once(engine, recall_run):
    kept, _, _, _ = recall_run
    with Session(engine) as session:
        rows = session.execute(
            select(Case.customer_id, Case.status, Case.outcome)
            .where(Case.outcome == "returned_in_store")
        ).all()  # fmt: skip
        assert sorted(r.customer_id for r in rows) == ["C00008", "L4"]
        assert {r.status for r in rows} == {"resolved"}
        kind = Fulfilment.kind == "returned_to_store"
        store = session.scalar(select(func.count()).select_from(Fulfilment).where(kind))
        assert store == kept.fulfilled["returned_to_store"]
        assert case_of(engine, "C00009").outcome != "returned_in_store"  # another lot


def test_an_injury_escalates_to_the_health_specialist(engine, recall_run):
    case = case_of(engine, "C00009")
    assert (case.status, case.escalation_reason, case.agent_id) == ("escalated", "health", "H1")
    assert case_of(engine, "C00007").status == "resolved"  # property damage: no escalation


def test_the_regulator_csv_per_week(recall_run):
    kept, files, _, _ = recall_run
    week1, week2 = files.progress.periods
    notified_week1 = Counter(kept.notified.values())
    assert (week1.notified_mail, week1.notified_phone) == (
        notified_week1["letter"], notified_week1["phone"],
    )  # fmt: skip
    assert week1.notified_phone <= week1.answered  # a notice by phone is a call that reached
    assert week1.answered == len(kept.contacted)
    assert week1.call_attempts + week2.call_attempts == kept.calls
    assert (week1.units_corrected, week2.units_corrected) == (
        kept.fulfilled["returned_to_store"] + kept.fulfilled["replacement_shipped"],
        kept.fulfilled["refund_paid"],
    )  # fmt: skip
    regulator = pd.read_csv(files.csvs["regulator"])
    assert regulator["cumulative_units_corrected"].tolist()[-1] == sum(kept.fulfilled.values())
    assert regulator["cumulative_call_attempts"].tolist()[-1] == kept.calls
    assert (
        regulator["cumulative_notified_phone"].tolist()[-1]
        <= regulator["cumulative_answered"].tolist()[-1]
    )


def test_the_monthly_report_follows_the_cpsc_structure(engine, recall_run, tmp_path):
    kept, _, _, drawn = recall_run
    december = monthly_report(engine=engine, recall_id=RECALL, month="2026-12",
                              clock=lambda: at(11))  # fmt: skip
    kinds = {f.key: (f.month, f.cumulative) for f in december.corrected_by_kind}
    assert kinds["refund_paid"] == (2, 2)  # paid on 2 December
    assert kinds["replacement_shipped"] == (0, 1) and kinds["returned_to_store"] == (0, 2)
    assert (december.corrected.month, december.corrected.cumulative) == (
        2, sum(kept.fulfilled.values()),
    )  # fmt: skip
    november = monthly_report(engine=engine, recall_id=RECALL, month="2026-11",
                              clock=lambda: at(11))  # fmt: skip
    notified = {f.key: f.month for f in november.notified}
    by_channel = Counter(kept.notified.values())
    assert notified == {"mail": by_channel["letter"], "phone": by_channel["phone"],
                        "email": 0, "sms": 0}  # fmt: skip
    assert november.attempts.month == kept.calls
    contacts = {f.key: f.month for f in november.contacted_firm}
    assert contacts["hotline"] == kept.consumer_contacts["hotline"] == 1
    assert contacts["store"] == kept.consumer_contacts["store"] == 2
    incidents = {i.key: i for i in november.incidents}
    assert (incidents["incidents"].before_month, incidents["incidents"].after_month) == (1, 1)
    assert (incidents["injuries"].before_month, incidents["injuries"].after_month) == (1, 0)
    assert incidents["deaths"].before_total == incidents["deaths"].after_total == 0
    assert {i.key: i.before_month + i.after_month for i in december.incidents}["incidents"] == 0
    checks = december.checks
    assert (checks.level, checks.sample) == ("B", drawn.sample)
    assert drawn.sample == -(-len(kept.notified) // 2)  # half of the notified, rounded up
    assert (checks.checked, checks.answered, checks.received, checks.acted) == (2, 1, 1, 1)
    assert november.checks.checked == 0  # made in December
    for language, heading in (("fr", "Rapport mensuel d'avancement"),
                              ("en", "Monthly progress report")):  # fmt: skip
        files = write_monthly_report(december, out_dir=tmp_path / "monthly", fonts_dir=FONTS,
                                     language=language)  # fmt: skip
        text = " ".join(page.extract_text() for page in PdfReader(files.pdf).pages)
        assert heading in text and "R-2026-014" in text
        folder = DOCS if os.environ.get("RECALL_UPDATE_DOCS") == "1" else tmp_path
        image = folder / f"monthly-report-sample{'' if language == 'fr' else '-en'}.png"
        pypdfium2.PdfDocument(str(files.pdf))[0].render(scale=1.4).to_pil().save(image)
        assert image.stat().st_size > 20_000  # `make screenshots` writes it into docs/
        table = pd.read_csv(files.csv, dtype=str, encoding="utf-8-sig")
        row = table[(table.section == "corrected_by_remedy") & (table.key == "refund_paid")]
        assert row[["this_month", "cumulative"]].values.tolist() == [["2", "2"]]
    assert "Remboursement versé" in (tmp_path / "monthly" / files.csv.name.replace(".en.", ".fr."))\
        .read_text(encoding="utf-8-sig")  # fmt: skip


def test_every_word_of_the_monthly_report_is_translated_into_french():
    from babel.messages.extract import extract_from_file

    from recall import i18n
    from recall.reporting.effectiveness import CheckFigures
    from recall.reporting.monthly import figures, layout, pdf
    from recall.reporting.progress import Agreed

    nothing = figures.Figure("x", 0, 0)
    report = figures.MonthlyReport(
        recall_id=RECALL, title="t", hazard="high", launched_on=DAY0.date(),
        month_start=DAY0.date(), month_end=DAY0.date(), as_of=DAY0, units_affected=0,
        untraceable_units=0, corrected=nothing,
        corrected_by_kind=[figures.Figure(k, 0, 0) for k in layout.KIND_LABELS],
        agreed=Agreed(), incidents=[figures.IncidentLine(k, 0, 0, 0, 0)
                                    for k in layout.INCIDENT_LABELS],
        notified=[figures.Figure(k, 0, 0) for k in layout.NOTICE_LABELS], attempts=nothing,
        contacted_firm=[figures.Figure(k, 0, 0) for k in layout.CONTACT_LABELS],
        checks=CheckFigures("B", 0.25), completion_expected=None, ends_on=None, cases=0,
        resolved=0,
    )  # fmt: skip
    said = {message for _, message, _, _ in extract_from_file("python", pdf.__file__)}
    for section in layout.sections(report):
        said |= {section.title, section.note, *section.columns}
        said |= {line.label for line in section.lines}
        said |= {v for line in section.lines for v in (line.month, line.total)
                 if isinstance(v, str) and v and not v[0].isupper()}  # fmt: skip
    said |= {"high", "medium", "low", "not recorded"}
    said.discard("")
    assert len(said) > 60
    assert sorted(said - set(i18n.catalogue("fr"))) == []
