"""Click-to-call end to end: the real twilio SDK, a Twilio stand-in, and our signed webhooks."""

import dataclasses
import datetime as dt
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recall.bootstrap import App
from recall.calling.assignment import assign_call_list
from recall.calling.claiming import WorkError, next_case
from recall.calling.dialing import click_to_call
from recall.calling.outcomes import record_disposition
from recall.db.engine import make_engine
from recall.db.models import CallAttempt, Case, CaseEvent, Message
from recall.settings import PROJECT_TEMPLATES, Settings
from recall.telephony.offline import OfflineTelephony
from recall.telephony.twilio import TwilioTelephony
from recall.web.app import create_app
from tests.servers import free_port, serving
from tests.support import agent, customer, launch, line, seed
from tests.twilio_standin import TwilioStandIn

AGENT_PHONE = "+33612000001"
HOTLINE = "+33180000000"
MONDAY_10H_PARIS = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)


def clock() -> dt.datetime:
    return MONDAY_10H_PARIS


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with TwilioStandIn() as standin:
        yield standin


@pytest.fixture
def webhooks(engine, twilio, tmp_path) -> Iterator[Settings]:
    """Our web app on a real port, with the stand-in's auth token."""
    port = free_port()
    settings = Settings(
        data_dir=tmp_path,
        database_url=str(engine.url),
        twilio_account_sid=twilio.account_sid,
        twilio_auth_token=twilio.auth_token,
        twilio_api_base=twilio.base_url,
        public_url=f"http://127.0.0.1:{port}",
        hotline=HOTLINE,
    )
    app = create_app(App(settings, engine))
    with serving(app, port):
        yield settings


@pytest.fixture
def desk(engine, twilio, webhooks):
    """Three customers to phone, one agent with a phone, and a way to dial each one."""
    phones = {"ANSWERS": "+33611111111", "NOBODY": "+33622222222", "MACHINE": "+33633333333"}
    for customer_id, phone in phones.items():
        seed(engine, customer(customer_id, phone=phone, address_line1=None))
        seed(engine, line(customer_id, "2026-03-01"))
    seed(engine, agent("A1", phone=AGENT_PHONE))
    launch(engine, hotline=HOTLINE)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr", clock=clock)
    twilio.customer_behaviour.update(
        {phones["NOBODY"]: "no-answer", phones["MACHINE"]: "voicemail"}
    )
    telephony = TwilioTelephony(
        account_sid=twilio.account_sid, auth_token=twilio.auth_token, api_base=twilio.base_url
    )
    settings = App(webhooks, engine).dial_settings

    def dial(customer_id: str, **options):
        case_id = _case_id(engine, customer_id)
        dialled = click_to_call(
            engine=engine, telephony=telephony, settings=settings, agent_id="A1",
            case_id=case_id, clock=clock, **options,
        )  # fmt: skip
        twilio.wait_idle()
        return case_id, dialled

    return dial


def _case_id(engine, customer_id: str) -> int:
    with Session(engine) as session:
        return session.scalar(select(Case.id).where(Case.customer_id == customer_id))


def attempt(engine, attempt_id) -> CallAttempt:
    with Session(engine) as session:
        return session.get(CallAttempt, attempt_id)


def snapshot(engine) -> tuple:
    """Everything a callback may change."""
    with Session(engine) as session:
        cases = session.execute(
            select(Case.id, Case.status, Case.attempts, Case.next_call_at, Case.call)
        ).all()
        attempts = session.execute(
            select(CallAttempt.id, CallAttempt.line_status, CallAttempt.disposition)
        ).all()
        events = session.scalar(select(func.count()).select_from(CaseEvent))
        return sorted(cases), sorted(attempts), events


def test_click_to_call_rings_the_agent_then_bridges_the_customer_with_the_hotline(
    engine, twilio, desk
):
    case_id, dialled = desk("ANSWERS")
    placed = twilio.calls[dialled.call_sid]
    assert placed["To"] == AGENT_PHONE and placed["From"] == HOTLINE
    assert twilio.dials[0]["callerId"] == HOTLINE
    assert twilio.dials[0]["number"] == "+33611111111"
    line = attempt(engine, dialled.attempt_id)
    assert (line.line_status, line.answered_by, line.duration_s) == ("completed", "human", 95)
    assert line.disposition is None  # a person answered: the agent says what came of it
    result = record_disposition(
        engine=engine, agent_id="A1", case_id=case_id, disposition="reached",
        outcome="refund", attempt_id=dialled.attempt_id, clock=clock,
    )  # fmt: skip
    assert result.status == "resolved"
    assert attempt(engine, dialled.attempt_id).disposition == "reached"


def test_no_answer_and_voicemail_become_attempts_without_the_agent(engine, twilio, desk):
    nobody_id, nobody = desk("NOBODY")
    machine_id, machine = desk("MACHINE")
    assert attempt(engine, nobody.attempt_id).disposition == "no_answer"
    assert attempt(engine, machine.attempt_id).disposition == "voicemail"
    with Session(engine) as session:
        for case_id, channel, why in (
            (nobody_id, "phone", "call: no_answer"), (machine_id, "voicemail", "call: voicemail")
        ):  # fmt: skip
            case = session.get(Case, case_id)
            # Attempts, not notices: the cases stay identified, the attempt in their history.
            assert (case.status, case.attempts, case.claimed_by) == ("identified", 1, None)
            assert case.notified_by is None and case.next_call_at is not None
            events = session.execute(
                select(CaseEvent.old_status, CaseEvent.new_status, CaseEvent.channel,
                       CaseEvent.note)
                .where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
            ).all()  # fmt: skip
            assert [tuple(e) for e in events[1:]] == [("identified", "identified", channel, why)]


def test_a_replayed_callback_changes_nothing(engine, twilio, desk):
    desk("NOBODY")
    before = snapshot(engine)
    leg = next(i for i, c in enumerate(twilio.callbacks) if "/leg-status/" in c.url)
    assert twilio.replay(leg) == 200
    assert twilio.replay(-1) == 200
    assert snapshot(engine) == before


def test_a_forged_callback_is_refused_and_changes_nothing(engine, twilio, desk, webhooks):
    _, dialled = desk("ANSWERS")
    before = snapshot(engine)
    forged = {"CallSid": "CAforged", "CallStatus": "no-answer", "AccountSid": twilio.account_sid}
    url = f"{webhooks.public_url}/twilio/leg-status/{dialled.attempt_id}"
    assert twilio.post_forged(url, forged) == 403
    unsigned = httpx.post(url, data=forged)
    assert unsigned.status_code == 403
    assert snapshot(engine) == before


def test_the_agents_phone_not_answering_calls_nobody_and_counts_nothing(engine, twilio, desk):
    twilio.agent_behaviour[AGENT_PHONE] = "no-answer"
    case_id, dialled = desk("NOBODY")
    line = attempt(engine, dialled.attempt_id)
    assert line.line_status == "agent-no-answer" and line.disposition is None
    assert twilio.dials == []
    with Session(engine) as session:
        assert session.get(Case, case_id).attempts == 0


def test_a_text_before_the_call_is_tracked_to_delivery(engine, twilio, desk):
    _, dialled = desk("ANSWERS", text_first=True)
    sent = twilio.messages[dialled.message_sid]
    assert sent["To"] == "+33611111111" and "rappel" in sent["Body"].lower()
    with Session(engine) as session:
        message = session.scalars(select(Message)).one()
    assert (message.sid, message.status) == (dialled.message_sid, "delivered")


def test_a_number_twilio_refuses_is_a_clear_error_without_the_number(engine, twilio, desk):
    with Session(engine) as session, session.begin():
        from recall.db.models import Agent

        session.get(Agent, "A1").phone = "+3361"
    with pytest.raises(WorkError) as refused:
        desk("ANSWERS")
    assert "21211" in str(refused.value) and "+3361" not in str(refused.value)
    with Session(engine) as session:
        line = session.scalars(select(CallAttempt)).one()
    assert line.line_status == "not-placed"


def test_without_credentials_the_offline_adapter_records_what_it_would_do(engine, tmp_path):
    seed(engine, customer("C1", phone="06 11 11 11 11", address_line1=None))
    seed(engine, line("C1", "2026-03-01"), agent("A1", phone=AGENT_PHONE))
    launch(engine, hotline=HOTLINE)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr", clock=clock)
    app = App(Settings(data_dir=tmp_path, database_url=str(engine.url)), engine)
    offline = app.telephony
    assert isinstance(offline, OfflineTelephony)
    card = next_case(engine=engine, agent_id="A1", clock=clock)
    dialled = click_to_call(
        engine=engine, telephony=offline, settings=app.dial_settings, agent_id="A1",
        case_id=card.case_id, clock=clock,
    )  # fmt: skip
    assert dialled.call_sid.startswith("OFFLINE-call-")
    assert offline.sent[0].agent_phone == AGENT_PHONE
    outbox = (tmp_path / "telephony" / "offline-outbox.jsonl").read_text()
    assert AGENT_PHONE not in outbox and "+33*******01" in outbox


def test_templates_hold_a_pre_call_text_per_language():
    for language in ("fr", "en"):
        text = (PROJECT_TEMPLATES / "scripts" / f"sms.{language}.txt").read_text()
        assert "{hotline}" in text


def test_settings_without_twilio_credentials_mean_offline(tmp_path):
    settings = Settings.from_env({"RECALL_DATA_DIR": str(tmp_path)})
    assert settings.twilio_auth_token == ""
    changed = dataclasses.replace(settings, twilio_account_sid="AC1", twilio_auth_token="t")
    assert isinstance(App(changed, make_engine("sqlite://")).telephony, TwilioTelephony)


def test_dialling_outside_calling_hours_says_when_they_open(engine, tmp_path):
    seed(engine, customer("C1", phone="06 11 11 11 11", address_line1=None))
    seed(engine, line("C1", "2026-03-01"), agent("A1", phone=AGENT_PHONE))
    launch(engine, hotline=HOTLINE)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr", clock=clock)
    settings = App(Settings(data_dir=tmp_path, database_url=str(engine.url)), engine)
    sunday = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
    with pytest.raises(WorkError, match=r"they open Mon 09:00 \(Europe/Paris\)"):
        click_to_call(
            engine=engine, telephony=OfflineTelephony(), settings=settings.dial_settings,
            agent_id="A1", case_id=_case_id(engine, "C1"), clock=lambda: sunday,
        )  # fmt: skip


def test_recall_now_fixes_the_clock_of_the_command_line(tmp_path):
    settings = Settings.from_env({"RECALL_NOW": "2026-11-23T10:00+01:00"})
    assert App(settings, make_engine("sqlite://")).clock() == MONDAY_10H_PARIS
    with pytest.raises(ValueError, match="needs a time zone offset"):
        Settings.from_env({"RECALL_NOW": "2026-11-23T10:00"})


@pytest.mark.parametrize("duration", ["²", "1" + "0" * 20, "-5", "12.5"])
def test_a_signed_callback_with_a_duration_that_is_no_number_is_taken_without_it(
    engine, twilio, desk, webhooks, duration
):
    _, dialled = desk("NOBODY")
    url = f"{webhooks.public_url}/twilio/leg-status/{dialled.attempt_id}"
    params = {"CallSid": "CAodd", "CallStatus": "completed", "CallDuration": duration,
              "AccountSid": twilio.account_sid}  # fmt: skip
    assert twilio.post_signed(url, params) == 200


def test_a_signed_webhook_for_an_id_no_database_can_hold_is_a_422(twilio, webhooks):
    for hook in ("voice", "leg-status", "agent-status", "message-status"):
        url = f"{webhooks.public_url}/twilio/{hook}/{2**70}"
        assert twilio.post_signed(url, {"AccountSid": twilio.account_sid}) == 422, hook
