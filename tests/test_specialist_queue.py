"""The specialist queue: an escalated case comes first to the agent with its skill, marked on
their list, and its page opens on why it was escalated (the reason, the skill, the incident)."""

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.calling import agent_queue, claiming, outcomes
from recall.db.models import Case
from recall.remedies.incidents import IncidentReport, record_incident
from tests.console_support import MONDAY_10H_PARIS, build_console, csrf_of, log_in

BURN = "Elle s'est brûlée à la main droite en chargeant la batterie, veut parler à un médecin"


@pytest.fixture
def console(database_url, tmp_path):
    app, web = build_console(database_url, tmp_path, customers=9)  # three cases per agent
    yield app, web
    app.engine.dispose()


def cases_of(engine, agent_id) -> list[int]:
    """The agent's cases in their ordinary order (priority, then case)."""
    with Session(engine) as session:
        rows = session.execute(
            select(Case.id, Case.priority).where(Case.agent_id == agent_id)
        ).all()
    return [case_id for case_id, _ in sorted(rows, key=lambda row: (row.priority, row.id))]


def last_case_of_alice_after_sams(engine) -> int:
    """Alice's last case, which sorts after Sam's first: only its escalation puts it first."""
    with Session(engine) as session:
        order = {c.id: (c.priority, c.id) for c in session.scalars(select(Case))}
    burned = max(cases_of(engine, "A1"), key=order.__getitem__)
    assert order[burned] > order[cases_of(engine, "SP")[0]]
    return burned


def next_case(client) -> int | None:
    """Next case as the list's button asks for it: the case opened, or None (back to the list)."""
    token = csrf_of(client.get("/my/list").text)
    answer = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
    target = answer.headers["location"]
    return int(target.rsplit("/", 1)[1]) if target.startswith("/cases/") else None


def record(client, case_id: int, **form) -> int | None:
    """Save a call on the case page; the case opened next (None: back to the list)."""
    token = csrf_of(client.get(f"/cases/{case_id}").text)
    answer = client.post(f"/cases/{case_id}/record", data={"csrf": token, **form},
                         follow_redirects=False)  # fmt: skip
    assert answer.status_code == 303, answer.text
    target = answer.headers["location"]
    return int(target.rsplit("/", 1)[1]) if target.startswith("/cases/") else None


def escalate(client, case_id: int, skill: str, reason: str) -> None:
    record(client, case_id, disposition="reached", outcome="escalated", skill=skill, note=reason)


def report_burn(engine, case_id: int, actor: str = "lea") -> None:
    with Session(engine) as session:
        ref = session.get(Case, case_id).case_ref
    said = IncidentReport(ref, "brûlure", "injury", "2026-11-20", "Brûlure au second degré")
    record_incident(engine=engine, given=said, actor=actor, channel="console",
                    clock=lambda: MONDAY_10H_PARIS)  # fmt: skip


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_burned_customer_escalated_by_alice_reaches_sam_first_and_never_bruno(console):
    app, web = console
    burned = last_case_of_alice_after_sams(app.engine)
    sams = cases_of(app.engine, "SP")
    with TestClient(web) as alice:
        log_in(alice, "alice")
        escalate(alice, burned, "health", BURN)
    report_burn(app.engine, burned)  # the quality lead records the incident for the regulator
    with Session(app.engine) as session:
        assert (session.get(Case, burned).status, session.get(Case, burned).agent_id) == (
            "escalated", "SP")  # fmt: skip
    with TestClient(web) as bruno:  # no skill: he works his whole list and never gets it
        log_in(bruno, "bruno")
        handed = [next_case(bruno)]
        while handed[-1] is not None:
            handed.append(record(bruno, handed[-1], disposition="no_answer"))
        assert handed[:-1] == cases_of(app.engine, "A2") and burned not in handed
    with TestClient(web) as sam:
        log_in(sam, "sam")
        assert next_case(sam) == burned  # before his older ordinary cases
        page = sam.get(f"/cases/{burned}").text
        panel = text_of(page[page.index('id="escalation"') : page.index('id="script"')])
        assert "Dossier escaladé · spécialiste santé" in panel
        assert "Escaladé par Agent A1 : 23 nov. 2026 10:00, votre heure (Paris)" in panel
        assert f"Motif indiqué par le conseiller : {BURN}" in panel.replace("&#39;", "'")
        assert "brûlure le 20 novembre 2026 : blessure" in panel
        assert "Propos du client : Brûlure au second degré" in panel
        listed = sam.get("/my/list").text
        rows = re.findall(r'<a href="/cases/(\d+)">.*?</tr>', listed, re.S)
        assert [int(r) for r in rows] == [burned, *sams]
        first_row = listed[listed.index(f'href="/cases/{burned}"') :].split("</tr>")[0]
        assert "spécialiste santé" in first_row
        assert "spécialiste" not in listed[listed.index(f'href="/cases/{sams[0]}"') :]
        # Sam settles it; his ordinary cases come next, in their order.
        after = record(sam, burned, disposition="reached", outcome="refund")
        assert after == sams[0]
    with Session(app.engine) as session:
        assert session.get(Case, burned).status == "resolved"


def test_an_injury_reported_by_alice_sends_the_case_to_sam_with_the_incident_as_its_reason(
    console,
):
    app, web = console
    burned = last_case_of_alice_after_sams(app.engine)
    with TestClient(web) as alice:
        token = log_in(alice, "alice")
        alice.get(f"/cases/{burned}")
        said = {"kind": "brûlure", "severity": "injury", "occurred_on": "2026-11-20",
                "text": "La batterie a pris feu"}  # fmt: skip
        alice.post(f"/cases/{burned}/incident", data={"csrf": token, **said})
    with TestClient(web) as sam:
        log_in(sam, "sam")
        assert next_case(sam) == burned
        page = sam.get(f"/cases/{burned}").text
        panel = text_of(page[page.index('id="escalation"') : page.index('id="script"')])
    assert "Escaladé par Agent A1" in panel and "spécialiste santé" in panel
    assert "Escaladé au signalement de l'incident ci-dessous." in panel.replace("&#39;", "'")
    assert "brûlure le 20 novembre 2026 : blessure" in panel
    assert "Motif" not in panel  # no reason typed: the incident says it


def test_sam_in_english_sees_the_panel_in_english_and_none_on_an_ordinary_case(console):
    app, web = console
    burned = last_case_of_alice_after_sams(app.engine)
    with TestClient(web) as alice:
        log_in(alice, "alice")
        escalate(alice, burned, "health", BURN)
    report_burn(app.engine, burned)
    with TestClient(web) as sam:
        token = log_in(sam, "sam")
        sam.post("/me", data={"csrf": token, "lang": "en", "time_zone": "Europe/Paris"})
        page = text_of(sam.get(f"/cases/{burned}").text)
        ordinary = sam.get(f"/cases/{cases_of(app.engine, 'SP')[0]}").text
    assert "Escalated case · health specialist" in page
    assert "Escalated by Agent A1: Nov 23, 2026" in page and "your time (Paris)" in page
    assert "Reason given by the agent:" in page
    assert "brûlure on November 20, 2026: an injury" in page
    assert 'id="escalation"' not in ordinary


def test_an_injury_comes_before_an_ordinary_escalation_then_ordinary_cases(console):
    app, _web = console
    clock = lambda: MONDAY_10H_PARIS  # noqa: E731
    complaint, burned = cases_of(app.engine, "A1")[:2]
    ordinary = [(case_id, "") for case_id in cases_of(app.engine, "SP")]
    for case_id in (complaint, burned):
        claiming.claim_case(engine=app.engine, agent_id="A1", case_id=case_id, clock=clock)
    outcomes.record_disposition(
        engine=app.engine, agent_id="A1", case_id=complaint, disposition="reached",
        outcome="escalated", skill="escalation", note="Conteste le remboursement proposé",
        clock=clock,
    )  # fmt: skip
    outcomes.record_disposition(
        engine=app.engine, agent_id="A1", case_id=burned, disposition="reached",
        outcome="escalated", skill="health", note=BURN, clock=clock,
    )  # fmt: skip
    queue = agent_queue.my_queue(engine=app.engine, agent_id="SP", clock=clock)
    assert [(row.case_id, row.skill) for row in queue.rows] == [
        (burned, "health"),
        (complaint, "escalation"),
        *ordinary,
    ]
    order = []
    while (card := claiming.next_case(engine=app.engine, agent_id="SP", clock=clock)) is not None:
        order.append(card.case_id)
        outcomes.record_disposition(
            engine=app.engine, agent_id="SP", case_id=card.case_id, disposition="reached",
            outcome="refund", clock=clock,
        )  # fmt: skip
    assert order == [row.case_id for row in queue.rows]


def test_an_escalation_waits_for_the_calling_hours_like_any_call(console):
    app, _web = console
    burned = cases_of(app.engine, "A1")[0]
    ten = lambda: MONDAY_10H_PARIS  # noqa: E731
    claiming.claim_case(engine=app.engine, agent_id="A1", case_id=burned, clock=ten)
    outcomes.record_disposition(
        engine=app.engine, agent_id="A1", case_id=burned, disposition="reached",
        outcome="escalated", skill="health", note=BURN, clock=ten,
    )  # fmt: skip
    late = dt.datetime(2026, 11, 23, 21, 30, tzinfo=dt.UTC)  # 22:30 in Paris
    assert claiming.next_case(engine=app.engine, agent_id="SP", clock=lambda: late) is None
    tomorrow = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)  # 09:00 in Paris
    card = claiming.next_case(engine=app.engine, agent_id="SP", clock=lambda: tomorrow)
    assert card is not None and (card.case_id, card.skill) == (burned, "health")


def test_a_hotline_agent_without_the_skill_records_the_call_but_the_case_stays_with_sam(console):
    app, web = console
    burned = cases_of(app.engine, "A1")[0]
    with TestClient(web) as alice:
        log_in(alice, "alice")
        escalate(alice, burned, "health", BURN)
    with Session(app.engine) as session:
        ref = session.get(Case, burned).case_ref
    with TestClient(web) as bruno:  # the burned customer calls the hotline; Bruno answers
        token = log_in(bruno, "bruno")
        bruno.post("/hotline", data={"q": ref, "csrf": token})
        page = bruno.get(f"/hotline/cases/{burned}").text
        assert 'id="escalation"' in page  # he sees why it is with a specialist
        assert "qui reste chez un spécialiste" in page and "vous attribue le dossier" not in page
        bruno.post(f"/cases/{burned}/record",
                   data={"csrf": token, "disposition": "callback_requested", "inbound": "1",
                         "callback_at": "2026-11-23T16:00"})  # fmt: skip
    with Session(app.engine) as session:
        case = session.get(Case, burned)
        assert (case.status, case.agent_id, case.callback_agent) == ("escalated", "SP", "SP")
