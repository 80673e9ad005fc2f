"""SMS notices end to end: queued at launch, sent by the real twilio SDK to a Twilio stand-in
within the calling hours, and its signed delivery callbacks applied once by our webhooks."""

import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from recall.bootstrap import App
from recall.campaign.events import change_status
from recall.db.models import Case, CaseEvent, Customer, Message
from recall.db.secrets import page_key
from recall.domain.errors import Refused
from recall.domain.gsm7 import SEGMENT, clip, septets, to_gsm7
from recall.domain.page_tokens import TOKEN_LENGTH, make_token, page_link
from recall.reach.queue import queue_digital_notices
from recall.reach.sms import SmsSettings, send_sms_notices
from recall.reach.sms.sending import Pacing
from recall.reach.sms.text import load_texts, render, template_problem
from recall.settings import PROJECT_TEMPLATES, Settings
from recall.telephony.port import Callbacks, MessageRequest, Telephony
from recall.telephony.twilio import TwilioTelephony
from recall.web.app import create_app
from tests.servers import free_port, serving
from tests.support import customer, launch, line, seed
from tests.twilio_standin import TwilioStandIn

HOTLINE = "+33180000000"
MONDAY_10H_PARIS = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
MONDAY_7H30_PARIS = dt.datetime(2026, 11, 23, 6, 30, tzinfo=dt.UTC)  # 10:30 in Réunion
SUNDAY_NOON_PARIS = dt.datetime(2026, 11, 22, 11, 0, tzinfo=dt.UTC)
ELODIE, MARC, OLIVIA, ZOE = "+33611111111", "+33622222222", "+33633333333", "+262692123456"


def monday() -> dt.datetime:
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
        data_dir=tmp_path, database_url=str(engine.url),
        twilio_account_sid=twilio.account_sid, twilio_auth_token=twilio.auth_token,
        twilio_api_base=twilio.base_url, public_url=f"http://127.0.0.1:{port}", hotline=HOTLINE,
        page_url="https://rappel.brico-maison.example", sms_rate=50,
    )  # fmt: skip
    app = create_app(App(settings, engine))
    with serving(app, port):
        yield settings


@pytest.fixture
def telephony(twilio) -> TwilioTelephony:
    return TwilioTelephony(
        account_sid=twilio.account_sid, auth_token=twilio.auth_token, api_base=twilio.base_url
    )


def customers(engine, *people: tuple[str, str], **fields) -> None:
    """Customers by id and mobile, no postal address, each with one drill bought."""
    for customer_id, phone in people:
        seed(engine, customer(customer_id, phone=phone, address_line1=None, **fields))
        seed(engine, line(customer_id, "2026-03-01"))


def launched(engine, **changes):
    """The sample recall sent by SMS first, its cases' notices queued."""
    recall = launch(engine, notify=["sms", "letter"], hotline=HOTLINE, **changes)
    queued = queue_digital_notices(
        engine=engine, definition=recall, mail_domain="recall.example", clock=monday
    )
    assert queued.texts > 0
    return recall


def send(engine, telephony: Telephony, settings: Settings, clock=monday, **options):
    report = send_sms_notices(
        engine=engine, telephony=telephony, settings=SmsSettings.from_settings(settings),
        recall_id="R-2026-014", clock=clock, **options,
    )  # fmt: skip
    return report


def case_of(engine, customer_id: str) -> Case:
    with Session(engine) as session:
        return session.scalars(select(Case).where(Case.customer_id == customer_id)).one()


def notice_of(engine, customer_id: str) -> Message:
    with Session(engine) as session:
        return session.scalars(
            select(Message).join(Case, Case.id == Message.case_id)
            .where(Case.customer_id == customer_id, Message.purpose == "notice")
        ).one()  # fmt: skip


def snapshot(engine) -> tuple:
    """Everything a status callback may change."""
    with Session(engine) as session:
        cases = session.execute(
            select(Case.id, Case.status, Case.notified_by, Case.call, Case.next_call_at)
        ).all()
        messages = session.execute(select(Message.id, Message.sid, Message.status)).all()
        events = session.scalar(select(func.count()).select_from(CaseEvent))
        return sorted(cases), sorted(messages), events


def test_a_delivered_sms_notice_notifies_the_case_once_however_often_twilio_says_so(
    engine, twilio, webhooks, telephony, caplog
):
    customers(engine, ("ELODIE", ELODIE))
    launched(engine)
    with caplog.at_level(logging.INFO):
        report = send(engine, telephony, webhooks)
    twilio.wait_idle()
    assert "case R-2026-014" in caplog.text and ELODIE not in caplog.text
    assert (report.sent, report.skipped, report.failed) == (1, 0, 0)
    case, notice = case_of(engine, "ELODIE"), notice_of(engine, "ELODIE")
    assert (case.status, case.notified_by) == ("notified", "sms")
    assert notice.status == "delivered" and notice.sid in twilio.messages
    sent = twilio.messages[notice.sid]
    link = page_link(webhooks.page_base, make_token(case.id, page_key(engine)))
    assert sent["From"] == HOTLINE and sent["To"] == ELODIE
    assert sent["Body"].startswith("Rappel produit : Perceuse-visseuse X200 18 V.")
    assert sent["Body"].endswith(link) and septets(sent["Body"]) <= SEGMENT
    assert sent["StatusCallback"] == Callbacks(webhooks.public_url).message_status(notice.id)
    before = snapshot(engine)
    assert [twilio.replay(i) for i in range(len(twilio.callbacks))] == [200, 200]
    assert snapshot(engine) == before
    with Session(engine) as session:
        notified = select(func.count()).where(CaseEvent.new_status == "notified")
        assert session.scalar(notified) == 1


def test_a_customer_who_reads_english_gets_the_english_text(engine, twilio, webhooks, telephony):
    customers(engine, ("OLIVIA", OLIVIA), language="en")
    launched(engine)
    send(engine, telephony, webhooks)
    twilio.wait_idle()
    body = twilio.messages[notice_of(engine, "OLIVIA").sid]["Body"]
    assert body.startswith("Product recall: Perceuse-visseuse X200 18 V. Danger")


@pytest.mark.parametrize("outcome", ["undelivered", "failed"])
def test_an_sms_notice_that_does_not_arrive_moves_the_case_to_the_call_list(
    engine, twilio, webhooks, telephony, outcome
):
    customers(engine, ("MARC", MARC))
    twilio.message_behaviour[MARC] = outcome
    launched(engine, call_after="2d")
    assert case_of(engine, "MARC").next_call_at is not None  # held for an answer to the text
    send(engine, telephony, webhooks)
    twilio.wait_idle()
    case = case_of(engine, "MARC")
    assert notice_of(engine, "MARC").status == outcome
    assert (case.status, case.call, case.next_call_at) == ("identified", True, None)
    with Session(engine) as session:
        notes = session.scalars(select(CaseEvent.note).where(CaseEvent.case_id == case.id))
        code = "30003" if outcome == "undelivered" else "30006"
        assert f"sms notice did not arrive (SMS {outcome} (error {code})): to the call list" in [
            *notes
        ]
    before = snapshot(engine)
    assert twilio.replay() == 200
    assert snapshot(engine) == before


def test_no_sms_goes_to_a_customer_now_on_do_not_call_nor_to_one_who_already_answered(
    engine, twilio, webhooks, telephony
):
    customers(engine, ("ELODIE", ELODIE), ("MARC", MARC))
    launched(engine)
    with Session(engine) as session, session.begin():
        session.get_one(Customer, "ELODIE").do_not_call = True
        marc = session.scalars(select(Case).where(Case.customer_id == "MARC")).one()
        for status in ("notified", "contacted"):  # Marc called the hotline himself
            change_status(session, marc, status, actor="hotline", channel="phone", clock=monday)
    report = send(engine, telephony, webhooks)
    assert (report.sent, report.skipped) == (0, 2)
    assert twilio.messages == {}
    assert {notice_of(engine, c).status for c in ("ELODIE", "MARC")} == {"cancelled"}
    elodie = case_of(engine, "ELODIE")
    assert (elodie.status, elodie.notice_only) == ("identified", True)  # no letter, no call
    with Session(engine) as session:
        last = session.scalars(select(CaseEvent.note).where(CaseEvent.case_id == elodie.id)
                               .order_by(CaseEvent.id.desc()).limit(1)).one()  # fmt: skip
    assert last == (
        "sms notice did not arrive (not sent: the customer asked not to be called): "
        "the public notice alone"
    )
    assert case_of(engine, "MARC").status == "contacted"


def test_outside_the_calling_hours_on_the_customers_clock_a_notice_waits(
    engine, twilio, webhooks, telephony
):
    customers(engine, ("ELODIE", ELODIE), ("ZOE", ZOE))
    launched(engine)
    sunday = send(engine, telephony, webhooks, clock=lambda: SUNDAY_NOON_PARIS)
    assert (sunday.sent, sunday.waiting_for_hours) == (0, 2)
    early = send(engine, telephony, webhooks, clock=lambda: MONDAY_7H30_PARIS)
    assert (early.sent, early.waiting_for_hours) == (1, 1)  # Réunion is at 10:30 already
    twilio.wait_idle()
    assert [m["To"] for m in twilio.messages.values()] == [ZOE]
    assert notice_of(engine, "ELODIE").status == "waiting"
    later = send(engine, telephony, webhooks)
    twilio.wait_idle()
    assert (later.sent, later.waiting_for_hours) == (1, 0)
    assert case_of(engine, "ELODIE").status == "notified"


def test_a_forged_or_unsigned_callback_is_refused_and_changes_nothing(engine, twilio, webhooks):
    customers(engine, ("ELODIE", ELODIE))
    launched(engine)
    notice = notice_of(engine, "ELODIE")
    url = Callbacks(webhooks.public_url).message_status(notice.id)
    delivered = {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered",
                 "AccountSid": twilio.account_sid}  # fmt: skip
    before = snapshot(engine)
    assert twilio.post_forged(url, delivered) == 403
    assert httpx.post(url, data=delivered).status_code == 403
    assert snapshot(engine) == before
    assert twilio.post_signed(url, delivered) == 200  # the same, signed as Twilio signs
    assert case_of(engine, "ELODIE").status == "notified"


def test_a_delivery_reported_after_the_customer_answered_keeps_the_case_where_it_is(
    engine, twilio, webhooks
):
    customers(engine, ("ELODIE", ELODIE))
    launched(engine)
    notice = notice_of(engine, "ELODIE")
    url = Callbacks(webhooks.public_url).message_status(notice.id)
    sent = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "sent"}
    assert twilio.post_signed(url, sent) == 200
    with Session(engine) as session, session.begin():
        elodie = session.scalars(select(Case).where(Case.customer_id == "ELODIE")).one()
        for status in ("notified", "contacted"):  # she called the hotline before it arrived
            change_status(session, elodie, status, actor="hotline", channel="phone", clock=monday)
    assert twilio.post_signed(url, sent | {"MessageStatus": "delivered"}) == 200
    assert notice_of(engine, "ELODIE").status == "delivered"
    elodie = case_of(engine, "ELODIE")
    assert (elodie.status, elodie.notified_by) == ("contacted", "phone")


class CrashingTelephony(Telephony):
    """The process dies as it asks the provider: after the notice was marked sending."""

    name = "crashing"

    def place_call(self, request):
        raise NotImplementedError

    def send_message(self, request: MessageRequest) -> str:
        raise SystemExit("power cut")


def test_a_crash_while_sending_never_sends_the_notice_twice(engine, twilio, webhooks, telephony):
    customers(engine, ("ELODIE", ELODIE), ("MARC", MARC))
    launched(engine)
    with pytest.raises(SystemExit):
        send(engine, CrashingTelephony(), webhooks)
    assert notice_of(engine, "ELODIE").status == "sending"
    report = send(engine, telephony, webhooks)
    twilio.wait_idle()
    assert (report.sent, report.in_doubt) == (1, 1)
    assert [m["To"] for m in twilio.messages.values()] == [MARC]
    assert notice_of(engine, "ELODIE").status == "sending"
    assert send(engine, telephony, webhooks).sent == 0


def test_a_number_twilio_refuses_fails_the_notice_and_moves_the_case_on(
    engine, twilio, webhooks, telephony, caplog
):
    customers(engine, ("ELODIE", ELODIE))
    launched(engine)
    with Session(engine) as session, session.begin():
        session.execute(update(Case).values(phone_e164="+3361"))  # Twilio answers 21211
    with caplog.at_level(logging.INFO):
        report = send(engine, telephony, webhooks)
    assert (report.sent, report.failed) == (0, 1)
    assert notice_of(engine, "ELODIE").status == "failed"
    assert case_of(engine, "ELODIE").call is True
    assert "21211" in caplog.text and "+3361" not in caplog.text


def test_while_twilio_cannot_be_reached_the_notices_wait(engine, webhooks):
    customers(engine, ("ELODIE", ELODIE), ("MARC", MARC))
    launched(engine)
    unreachable = TwilioTelephony(account_sid="AC1", auth_token="t",
                                  api_base=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    report = send(engine, unreachable, webhooks)
    assert (report.sent, report.deferred) == (0, 1)  # the pass stops at the first
    assert {notice_of(engine, c).status for c in ("ELODIE", "MARC")} == {"waiting"}


def test_a_pass_sends_at_most_its_limit(engine, twilio, webhooks, telephony):
    customers(engine, ("ELODIE", ELODIE), ("MARC", MARC), ("OLIVIA", OLIVIA))
    launched(engine)
    assert send(engine, telephony, webhooks, limit=2).sent == 2
    assert send(engine, telephony, webhooks).sent == 1
    twilio.wait_idle()


def test_the_texts_go_at_the_senders_rate(engine, twilio, webhooks, telephony):
    customers(engine, ("ELODIE", ELODIE), ("MARC", MARC), ("OLIVIA", OLIVIA))
    launched(engine)
    slow = dataclasses.replace(webhooks, sms_rate=5)
    started = time.monotonic()
    assert send(engine, telephony, slow).sent == 3
    assert time.monotonic() - started >= 0.4  # three texts at 5 a second: two gaps of 0.2 s
    twilio.wait_idle()


# The text: one GSM-7 segment in every shipped language, whatever the product is called.

SCRIPTS = PROJECT_TEMPLATES / "scripts"
LONGEST_PAGE = "https://rappels.brico-maison-france.example"[:40]
WORST_PRODUCT = (
    "Perceuse-visseuse à percussion sans fil X200 18 V Brushless « Édition Pro » "
    "+ 2 batteries [5,0 Ah] {coffret} ~ 129,90 € — garantie 3 ans, fenêtre œil-de-bœuf"
)


@pytest.mark.parametrize("path", sorted(SCRIPTS.glob("sms-notice.*.txt")), ids=lambda p: p.name)
def test_every_shipped_sms_notice_fits_one_gsm7_segment_with_the_longest_link(path):
    link = page_link(LONGEST_PAGE, "Z" * TOKEN_LENGTH)
    assert len(link) == 40 + 3 + 24
    template = path.read_text(encoding="utf-8").strip()
    assert template_problem(template, LONGEST_PAGE) is None
    for product in (WORST_PRODUCT, "X200", ""):
        text = render(template, product=product, link=link)
        assert septets(text) is not None and septets(text) <= SEGMENT, text
        assert text.endswith(link) and product[:4] in text


def test_the_notice_is_shipped_in_french_and_english():
    assert {p.name for p in SCRIPTS.glob("sms-notice.*.txt")} >= {
        "sms-notice.fr.txt", "sms-notice.en.txt"
    }  # fmt: skip


def test_gsm7_counts_extension_characters_twice_and_knows_what_is_outside():
    assert septets("Rappel : perceuse, lot L4415 à 9,90 £") == 37
    assert septets("{€}") == 6 and septets("[~]^\\|") == 12
    assert septets("é è à ù É Ç ñ ü ß") == 17
    for outside in ("ê", "â", "î", "ô", "û", "ç", "œ", "’", "«", "\u00a0", "—"):
        assert septets(outside) is None, outside


def test_names_are_folded_into_gsm7_and_cut_to_the_room_left():
    assert to_gsm7("Crêpière  «Œuf»\u00a0— façon\nbretonne") == "Crepière <<Oeuf>> - facon bretonne"
    assert to_gsm7("Sèche-cheveux à 19,90 €") == "Sèche-cheveux à 19,90 €"
    assert clip("Perceuse-visseuse X200", 12) == "Perceuse-..."
    assert clip("Perceuse", 8) == "Perceuse" and clip("Perceuse", 2) == ""
    assert clip("[[[[[[", 7) == "[[..."  # each bracket takes two septets


def test_a_template_that_would_not_fit_is_refused_before_anything_is_sent(tmp_path):
    (tmp_path / "sms-notice.fr.txt").write_text("Rappel : ne l'utilisez plus, reçu : {link}")
    with pytest.raises(Refused, match="outside the GSM-7 alphabet: 'ç'"):
        load_texts(tmp_path, home_language="fr", product="X200", page_base=LONGEST_PAGE)
    (tmp_path / "sms-notice.fr.txt").write_text("Rappel {product} " + "x" * 100 + " {link}")
    with pytest.raises(Refused, match="septets with a 67-character link"):
        load_texts(tmp_path, home_language="fr", product="X200", page_base=LONGEST_PAGE)
    (tmp_path / "sms-notice.fr.txt").write_text("Rappel {produit} : {link}")
    with pytest.raises(Refused, match="a field other than"):
        load_texts(tmp_path, home_language="fr", product="X200", page_base=LONGEST_PAGE)


def test_pacing_keeps_each_sender_to_its_rate():
    waits: list[float] = []
    pacing = Pacing(10, sleep=waits.append)
    for _ in range(3):
        pacing.wait(HOTLINE)
    pacing.wait("+33180000001")  # another sender has its own slots
    assert len(waits) == 2 and 0.09 < waits[0] <= 0.1 and 0.19 < waits[1] <= 0.2


def test_an_alphanumeric_sender_id_replaces_the_hotline(engine, twilio, webhooks, telephony):
    customers(engine, ("ELODIE", ELODIE))
    launched(engine)
    send(engine, telephony, dataclasses.replace(webhooks, sms_sender="BRICO"))
    twilio.wait_idle()
    (sent,) = twilio.messages.values()
    assert sent["From"] == "BRICO"


def test_on_a_public_holiday_of_the_customers_country_a_notice_waits(
    engine, twilio, webhooks, telephony
):
    customers(engine, ("ELODIE", ELODIE))
    launched(engine)
    christmas = dt.datetime(2026, 12, 25, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))  # a Friday
    held = send(engine, telephony, webhooks, clock=lambda: christmas)
    assert (held.sent, held.waiting_for_hours) == (0, 1)
    after = send(engine, telephony, webhooks, clock=lambda: christmas + dt.timedelta(days=1))
    assert (after.sent, after.waiting_for_hours) == (1, 0)  # Saturday 10:00: calling hours
