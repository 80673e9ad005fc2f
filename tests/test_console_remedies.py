"""The console after the call: a reached call needs its outcome, the counts an agent sees match
the log, the lead records fulfilments (by hand and by file), incidents and effectiveness
checks, in French (the console's home language) and in English, and the reporting team
downloads the regulator's monthly report."""

import io
import re

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recall.db.models import CallAttempt, Case, EffectivenessCheck, Fulfilment, Incident
from tests.console_support import RECALL, csrf_of, log_in


def open_next(client) -> tuple[int, str]:
    token = csrf_of(client.get("/my/list").text)
    answer = client.post("/my/next", data={"csrf": token}, follow_redirects=False)
    target = answer.headers["location"]
    assert target.startswith("/cases/"), target
    return int(target.rsplit("/", 1)[1]), client.get(target).text


def case(engine, case_id) -> Case:
    with Session(engine) as session:
        return session.get(Case, case_id)


def in_english(client: TestClient, username: str) -> str:
    """Log in and choose English, as a user of the console does; the CSRF token."""
    token = log_in(client, username)
    client.post("/language", data={"csrf": token, "lang": "en", "back": "/"})
    return token


def test_a_reached_call_needs_an_outcome_and_the_calls_shown_match_the_log(console):
    app, web = console
    with TestClient(web) as client:
        token = in_english(client, "alice")
        case_id, _ = open_next(client)
        refused = client.post(f"/cases/{case_id}/record",
                              data={"csrf": token, "disposition": "reached"})  # fmt: skip
        assert refused.status_code == 400
        assert "needs its outcome, or the time the customer asked to be called back" in refused.text
        client.post(f"/cases/{case_id}/record", data={"csrf": token, "disposition": "no_answer"})
        page = client.get(f"/cases/{case_id}").text
        assert re.search(r'id="calls">1 \(1 unanswered', page)
        assert case(app.engine, case_id).status == "identified"  # an attempt is not a notice
        listed = client.get("/my/list").text
        row = re.search(rf'/cases/{case_id}".*?class="n">(\d+)<', listed, re.S)
        assert row and row.group(1) == "1"
        client.post(
            f"/cases/{case_id}/record",
            data={"csrf": token, "disposition": "reached", "callback_at": "2026-11-24T18:30"},
        )  # fmt: skip
        assert re.search(r'id="calls">2 \(1 unanswered', client.get(f"/cases/{case_id}").text)
    with Session(app.engine) as session:
        recorded = session.scalar(
            select(func.count()).select_from(CallAttempt).where(CallAttempt.case_id == case_id)
        )
        assert recorded == 2
        reached = session.get(Case, case_id)
        assert (reached.status, reached.notified_by) == ("contacted", "phone")


def test_an_agent_reports_an_injury_and_the_case_goes_to_the_specialist(console):
    app, web = console
    with TestClient(web) as client:
        token = in_english(client, "alice")
        case_id, _ = open_next(client)
        answer = client.post(
            f"/cases/{case_id}/incident",
            data={"csrf": token, "kind": "Burn", "severity": "injury", "occurred_on": "2026-11-20",
                  "text": "burned hand"},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303 and answer.headers["location"] == "/my/list"
        assert "health specialist" in client.get("/my/list").text
    escalated = case(app.engine, case_id)
    assert (escalated.status, escalated.escalation_reason, escalated.agent_id) == (
        "escalated", "health", "SP",
    )  # fmt: skip
    with TestClient(web) as client:  # no longer hers: she can't report on it again
        token = log_in(client, "alice")
        again = client.post(
            f"/cases/{case_id}/incident",
            data={"csrf": token, "kind": "burn", "severity": "none", "occurred_on": "2026-11-20"},
        )  # fmt: skip
        assert again.status_code == 404
    with Session(app.engine) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1


def resolve_one(app, web) -> str:
    """Alice reaches a customer who takes a refund; the case's reference."""
    with TestClient(web) as client:
        token = log_in(client, "alice")
        resolved, _ = open_next(client)
        form = {"csrf": token, "disposition": "reached", "outcome": "refund"}
        client.post(f"/cases/{resolved}/record", data=form)
    return case(app.engine, resolved).case_ref


def units(page: str) -> str:
    return re.search(r'id="units">([^<]*)<', page).group(1)


def test_the_lead_records_fulfilments_incidents_and_checks(console):
    """In French, the console's home language: words, days, amounts and numbers in French."""
    app, web = console
    ref = resolve_one(app, web)
    with TestClient(web) as client:
        token = log_in(client, "lea")
        page = client.get(f"/recalls/{RECALL}/case", params={"ref": ref}).text
        assert units(page) == "0 sur 1" and "Rien de réalisé pour l'instant" in page
        assert "réglé (remboursement)" in page and "<td>Appels</td>" in page
        form = {"csrf": token, "kind": "refund_paid", "done_on": "2026-11-23", "amount": "49,90"}
        done = client.post(f"/recalls/{RECALL}/case/{ref}/fulfilment", data=form)
        assert "Remboursement versé : enregistré, 1 unité corrigée." in done.text
        page = client.get(f"/recalls/{RECALL}/case", params={"ref": ref}).text
        assert units(page) == "1 sur 1" and "49,90\u00a0€" in page
        assert "23 novembre 2026" in page and "lea (console)" in page
        again = client.post(f"/recalls/{RECALL}/case/{ref}/fulfilment", data=form)
        assert "Déjà enregistré : rien n&#39;a changé." in again.text
        late = client.post(f"/recalls/{RECALL}/case/{ref}/fulfilment",
                           data=form | {"kind": "repair_done"})  # fmt: skip
        assert "Non enregistré :" in late.text and "agreed a refund, not a repair" in late.text
        # A file from the retailer: one row already there, one unknown, one with no date.
        upload = (
            "case_ref,kind,done_on,amount\n"
            f"{ref},refund_paid,2026-11-23,49.90\n"
            "R-2026-014-777777,refund_paid,2026-11-23,10\n"
            f"{ref},destroyed,,\n"
        )
        shown = client.post(
            f"/recalls/{RECALL}/fulfilments", data={"csrf": token},
            files={"file": ("fulfilments.csv", io.BytesIO(upload.encode()), "text/csv")},
        ).text  # fmt: skip
        assert re.search(r'id="recorded">0<', shown) and re.search(r'id="already">1<', shown)
        assert re.search(r'id="rejected">2<', shown) and "Lignes rejetées" in shown
        assert "no case has the reference" in shown and "is not a date" in shown
        # An incident on another case: property damage, recorded; the case stays where it is.
        with Session(app.engine) as session:
            other = session.scalar(select(Case.case_ref).where(Case.case_ref != ref).limit(1))
        client.post(f"/recalls/{RECALL}/case/{other}/incident",
                    data={"csrf": token, "kind": "scorch", "severity": "property_damage",
                          "occurred_on": "2026-11-22"})  # fmt: skip
        page = client.get(f"/recalls/{RECALL}/case", params={"ref": other}).text
        assert "scorch" in page and "dégâts matériels" in page and "22 novembre 2026" in page
        # The effectiveness check: the one notified case is drawn (level B: at least one).
        drawn = client.post(f"/recalls/{RECALL}/checks", data={"csrf": token})
        assert "Contrôle d&#39;efficacité, niveau B : 1 dossier tiré au sort" in drawn.text
        page = client.get(f"/recalls/{RECALL}/case", params={"ref": ref}).text
        assert "Tiré au sort pour le contrôle." in page
        answers = {"csrf": token, "answered": "yes", "received": "yes", "acted": "no"}
        client.post(f"/recalls/{RECALL}/case/{ref}/check", data=answers)
        page = client.get(f"/recalls/{RECALL}/case", params={"ref": ref}).text
        assert "avis reçu : oui ; suite donnée : non" in page
        assert "UTC" not in page and "refund_paid" not in page.replace('value="refund_paid"', "")
    with Session(app.engine) as session:
        assert session.scalar(select(func.count()).select_from(Fulfilment)) == 1
        check = session.get(EffectivenessCheck, case_id_of(app.engine, ref))
        assert (check.answered, check.received, check.acted) == (True, True, False)


def case_id_of(engine, ref: str) -> int:
    with Session(engine) as session:
        return session.scalar(select(Case.id).where(Case.case_ref == ref))


def test_a_lead_who_chose_english_records_a_fulfilment_in_english(console):
    app, web = console
    ref = resolve_one(app, web)
    with TestClient(web) as client:
        token = in_english(client, "lea")
        page = client.get(f"/recalls/{RECALL}/case", params={"ref": ref}).text
        assert units(page) == "0 of 1" and "Nothing carried out yet." in page
        assert "settled (refund)" in page and "Units corrected" in page
        form = {"csrf": token, "kind": "refund_paid", "done_on": "2026-11-23", "amount": "49,90"}
        done = client.post(f"/recalls/{RECALL}/case/{ref}/fulfilment", data=form)
        assert "Refund paid recorded: 1 unit corrected." in done.text
        assert "€49.90" in done.text and "November 23, 2026" in done.text
        unknown = client.get(f"/recalls/{RECALL}/case", params={"ref": "R-2026-014-999999"})
        assert "Recall R-2026-014 has no case R-2026-014-999999." in unknown.text
        bad_month = client.get(f"/reports/{RECALL}/monthly.pdf", params={"month": "11/2026"})
        assert bad_month.status_code == 409 and "is not a month like 2026-11" in bad_month.text


def test_the_monthly_report_is_downloaded_in_french_and_english(console):
    _, web = console
    with TestClient(web) as client:
        log_in(client, "rita")
        for lang, title in (("fr", "Rapport mensuel d'avancement"), ("en", "Monthly progress")):
            pdf = client.get(f"/reports/{RECALL}/monthly.pdf", params={"lang": lang})
            assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
            text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
            assert title in text and RECALL in text
        table = client.get(f"/reports/{RECALL}/monthly.csv", params={"month": "2026-11"})
        assert table.status_code == 200 and "corrected_by_remedy" in table.text
        assert (
            client.get(f"/reports/{RECALL}/monthly.pdf", params={"month": "11/2026"}).status_code
            == 409
        )
        assert client.get(f"/reports/{RECALL}/monthly.exe").status_code == 404
    with TestClient(web) as client:  # an agent sees neither the lead's pages nor the reports
        log_in(client, "alice")
        assert client.get(f"/recalls/{RECALL}/case", params={"ref": "x"}).status_code == 403
        assert client.get(f"/reports/{RECALL}/monthly.pdf").status_code == 403


def test_an_injury_told_on_the_hotline_is_recorded_by_the_agent_who_answers(console):
    app, web = console
    with Session(app.engine) as session:
        theirs = session.scalars(
            select(Case).join(Case.holder).where(Case.agent_id == "A2")
        ).first()
    with TestClient(web) as client:
        token = log_in(client, "alice")  # A1 answers the hotline for A2's customer
        client.post("/hotline", data={"q": theirs.case_ref, "csrf": token})
        form = {"csrf": token, "kind": "burn", "severity": "injury", "occurred_on": "2026-11-22",
                "inbound": "1"}  # fmt: skip
        answer = client.post(f"/cases/{theirs.id}/incident", data=form, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"] == "/hotline"
        again = client.post(f"/cases/{theirs.id}/incident", data=form, follow_redirects=False)
        assert again.status_code == 303  # a double click: recorded once
        unfound = client.post(f"/cases/{theirs.id + 1}/incident", data=form)
        assert unfound.status_code == 404  # not found by her hotline search
    escalated = case(app.engine, theirs.id)
    assert (escalated.status, escalated.agent_id, escalated.notified_by) == (
        "escalated", "SP", "hotline",
    )  # fmt: skip
    with Session(app.engine) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
