"""The inbound desk: a caller found by reference, phone, name and postal code or e-mail; the
inbound script; only what a call the customer made can come to."""

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recall.calling.claiming import WorkError
from recall.calling.inbound import Caller, find_callers
from recall.calling.outcomes import record_disposition
from recall.db.models import CallAttempt, Case, CaseEvent, Customer, Recall
from recall.domain.errors import Refused
from tests.console_support import build_console, csrf_of, log_in
from tests.support import customer, launch, line, seed

OLDER, NEWER = "R-2026-014", "R-2026-020"
LETTER = "R-2026-014-000211"  # the reference on Jeanne Laurent's letter for the older recall


@pytest.fixture
def desk(engine):
    """Jeanne Laurent of Lyon 1er, Marc Laurent of Paris 11e and Élodie Lefèvre of Lyon 1er,
    each with a case in an older and a newer recall of the same drill."""
    seed(
        engine,
        customer("JL", first_name="Jeanne", last_name="Laurent", phone="06 11 22 33 44",
                 email="Jeanne.Laurent@Example.fr"),
        customer("ML", first_name="Marc", last_name="Laurent", postal_code="75011",
                 phone="06 55 66 77 88"),
        customer("EL"),  # Élodie Lefèvre, 69001
        *(line(cid, "2026-03-01") for cid in ("JL", "ML", "EL")),
    )  # fmt: skip
    launch(engine, clock=lambda: dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    launch(engine, clock=lambda: dt.datetime(2026, 11, 20, tzinfo=dt.UTC), id=NEWER,
           title="Perceuse X200 - second lot")  # fmt: skip
    with Session(engine) as session, session.begin():
        session.execute(
            update(Case)
            .where(Case.recall_id == OLDER, Case.customer_id == "JL")
            .values(case_ref=LETTER, seq=211)
        )
    return engine


def found(engine, query) -> list[tuple[str, str]]:
    return [(hit.case_ref[:10], hit.customer) for hit in find_callers(engine=engine, query=query)]


def refs(engine, query) -> list[str]:
    return [hit.case_ref for hit in find_callers(engine=engine, query=query)]


def test_the_whole_reference_finds_its_case_in_any_case(desk):
    assert refs(desk, LETTER) == refs(desk, " r-2026-014-000211 ") == [LETTER]


def test_the_references_number_finds_the_case_with_or_without_its_zeros(desk):
    assert refs(desk, "000211") == refs(desk, "211") == [LETTER]
    assert refs(desk, "0211") == [LETTER]
    assert refs(desk, "212") == []


def test_the_references_number_is_looked_for_in_open_recalls_only(desk):
    with Session(desk) as session, session.begin():
        session.execute(
            update(Recall).where(Recall.id == OLDER).values(closed_at=dt.datetime.now(dt.UTC))
        )
    assert refs(desk, "211") == []
    assert refs(desk, LETTER) == [LETTER]  # the whole reference still finds it


def test_a_phone_number_in_any_shape_finds_the_callers_cases_newest_recall_first(desk):
    for typed in ("06 11 22 33 44", "06.11.22.33.44", "+33 6 11 22 33 44", "0033611223344"):
        assert found(desk, typed) == [(NEWER, "Jeanne L."), (OLDER, "Jeanne L.")], typed


def test_a_last_name_with_its_postal_code_finds_only_that_caller(desk):
    assert found(desk, "Laurent 69001") == [(NEWER, "Jeanne L."), (OLDER, "Jeanne L.")]
    assert found(desk, "LAURENT 75011") == [(NEWER, "Marc L."), (OLDER, "Marc L.")]
    assert found(desk, "Jeanne Laurent 69001") == found(desk, "laurent jeanne 69 001")


def test_a_name_is_compared_without_accents_or_case(desk):
    assert found(desk, "lefevre 69001") == [(NEWER, "Élodie L."), (OLDER, "Élodie L.")]
    assert found(desk, "LEFÈVRE 69001") == found(desk, "lefevre 69001")


def test_a_name_with_the_wrong_postal_code_finds_nothing(desk):
    assert found(desk, "Laurent 13001") == []
    assert found(desk, "Laurentin 69001") == []


def test_a_name_alone_is_refused_with_a_request_for_the_postal_code(desk):
    with pytest.raises(Refused, match="postal code"):
        find_callers(engine=desk, query="Laurent")


def test_an_email_address_finds_the_caller_whatever_its_case(desk):
    assert found(desk, "jeanne.laurent@EXAMPLE.FR") == [(NEWER, "Jeanne L."), (OLDER, "Jeanne L.")]
    assert found(desk, "jeanne.laurent@example.com") == []


def test_a_found_caller_shows_no_more_than_it_takes_to_tell_callers_apart(desk):
    hit = find_callers(engine=desk, query=LETTER)[0]
    assert (hit.customer, hit.postal_code, hit.recall_title) == (
        "Jeanne L.", "69001", "Perceuse X200 - risque de brûlure",
    )  # fmt: skip
    shown = {"case_ref", "recall_title", "customer", "postal_code", "status", "agent_id"}
    assert set(Caller.__dataclass_fields__) == {"case_id", *shown}  # no phone, e-mail, address


def test_an_outbound_only_disposition_is_refused_for_an_inbound_call(desk):
    with Session(desk) as session:
        case_id = session.scalar(select(Case.id).where(Case.case_ref == LETTER))
    for disposition in ("no_answer", "busy", "voicemail", "wrong_number"):
        with pytest.raises(WorkError, match="hotline call can't be recorded"):
            record_disposition(engine=desk, agent_id="A1", case_id=case_id,
                               disposition=disposition, inbound=True)  # fmt: skip
    with Session(desk) as session:
        assert session.scalar(select(func.count()).select_from(CallAttempt)) == 0


# The console: the hotline page, the inbound case page, recording an inbound call.


@pytest.fixture
def console(database_url, tmp_path):
    app, web = build_console(database_url, tmp_path)
    with Session(app.engine) as session, session.begin():
        theirs = session.scalars(select(Case).where(Case.agent_id == "A2").order_by(Case.id))
        case = theirs.first()
        session.execute(
            update(Customer)
            .where(Customer.customer_id == case.customer_id)
            .values(first_name="Jeanne", last_name="Laurent", email="jeanne.laurent@example.fr")
        )
        case_id = case.id
    yield app, web, case_id
    app.engine.dispose()


def snapshot(engine, case_id):
    with Session(engine) as session:
        case = session.get(Case, case_id)
        events = session.scalar(select(func.count()).where(CaseEvent.case_id == case_id))
        calls = session.scalar(select(func.count()).where(CallAttempt.case_id == case_id))
        return case.status, case.agent_id, case.attempts, events, calls


def test_the_hotline_asks_for_a_postal_code_with_a_name(console):
    _, web, _ = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        refused = client.post("/hotline", data={"q": "Laurent", "csrf": token})
        assert refused.status_code == 400
        assert "ajoutez le code postal de l&#39;appelant" in refused.text  # alice's French
        assert 'id="hits"' not in refused.text


def test_a_caller_found_by_name_opens_on_the_inbound_script_without_outbound_buttons(console):
    app, web, case_id = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        hits = client.post("/hotline", data={"q": "laurent 69001", "csrf": token})
        assert f"/hotline/cases/{case_id}" in hits.text and "Jeanne L." in hits.text
        assert "Jeanne Laurent" not in hits.text and "+33" not in hits.text
        page = client.get(f"/hotline/cases/{case_id}").text
        assert "service des rappels de sécurité de votre magasin, je vous écoute" in page
        assert "(Au dossier : 69001." in page  # the postal code the caller must give
        assert "je vous appelle de la part" not in page  # not the outbound script
        for outbound in ('value="no_answer"', 'value="busy"', 'value="voicemail"',
                         'value="wrong_number"', "Appeler (Alt+C)"):  # fmt: skip
            assert outbound not in page, outbound
        assert 'value="reached"' in page and 'value="callback_requested"' in page
        # The caller hung up and alice did not put the case back: the next case is her own.
        own = client.post("/my/next", data={"csrf": token})
        assert own.status_code == 200 and f"/cases/{case_id}/" not in own.text
        assert 'value="no_answer"' in own.text and "je vous appelle de la part" in own.text
        assert "Appeler (Alt+C)" in own.text
    with Session(app.engine) as session:  # the caller's case went back to its list
        assert session.get(Case, case_id).claimed_by is None


def test_an_outbound_only_disposition_for_an_inbound_call_changes_nothing(console):
    app, web, case_id = console
    before = snapshot(app.engine, case_id)
    with TestClient(web) as client:
        token = log_in(client, "alice")
        client.post("/hotline", data={"q": "jeanne.laurent@EXAMPLE.fr", "csrf": token})
        page = client.get(f"/hotline/cases/{case_id}").text
        refused = client.post(
            f"/cases/{case_id}/record",
            data={"csrf": csrf_of(page), "disposition": "no_answer", "inbound": "1"},
        )
        assert refused.status_code == 400
        assert "can&#39;t be recorded as no answer" in refused.text
    assert snapshot(app.engine, case_id) == before
    assert before[1] == "A2"  # still on the other agent's list: nothing was taken over


def test_an_inbound_call_reached_with_a_refund_resolves_the_case_on_the_hotline(console):
    app, web, case_id = console
    with TestClient(web) as client:
        token = log_in(client, "alice")
        with Session(app.engine) as session:
            ref = session.get(Case, case_id).case_ref
        hits = client.post("/hotline", data={"q": ref[-6:], "csrf": token})  # "000002"
        assert f"/hotline/cases/{case_id}" in hits.text
        client.get(f"/hotline/cases/{case_id}")
        saved = client.post(
            f"/cases/{case_id}/record",
            data={"csrf": token, "disposition": "reached", "outcome": "refund", "inbound": "1"},
            follow_redirects=False,
        )
        assert saved.headers["location"] == "/hotline"
    with Session(app.engine) as session:
        case = session.get(Case, case_id)
        assert (case.status, case.outcome, case.agent_id) == ("resolved", "refund", "A1")
        channels = session.scalars(
            select(CaseEvent.channel).where(
                CaseEvent.case_id == case_id, CaseEvent.new_status == "resolved"
            )
        ).all()
        assert channels == ["hotline"]
