"""E-mail notices, sent to a real SMTP server (aiosmtpd): what arrives, what the cases become,
refusals and bounces moving a case on, STARTTLS with a login, the offline outbox."""

from __future__ import annotations

import datetime as dt
import re
import ssl
from email import message_from_bytes, policy

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.db.models import Case, CaseEvent, EmailNotice, Message
from recall.db.secrets import page_key
from recall.domain.page_tokens import read_token
from recall.mail.outbox import OutboxMailer
from recall.mail.smtp import SmtpMailer, SmtpServer
from recall.notices.templates import TemplateSet
from recall.reach.email_outcomes import record_bounces
from recall.reach.emails import MailSettings, send_emails
from recall.reach.queue import queue_digital_notices
from recall.settings import PROJECT_TEMPLATES
from tests.smtp_server import Mailbox, start_server
from tests.support import customer, launch, line, seed

NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
PAGE = "https://rappel.example.fr"
LINK = re.compile(re.escape(PAGE) + r"/r/([A-Z2-7]{24})")


def buyers(engine, count: int = 6, **fields) -> list[str]:
    """`count` customers with an e-mail address (and a mobile), each with one drill bought."""
    addresses = []
    rows: list = []
    for n in range(count):
        cid = f"C{n:03d}"
        address = f"client{n}@exemple.fr"
        addresses.append(address)
        language = "en" if n % 3 == 2 else "fr"
        values = {"phone": f"06 12 34 56 {n:02d}", "language": language} | fields
        rows += [customer(cid, email=address, **values), line(cid, "2026-03-01")]
    seed(engine, *rows)
    return addresses


def launched(engine, **changes):
    definition = launch(engine, clock=lambda: NOW, **changes)
    queued = queue_digital_notices(engine=engine, definition=definition,
                                   mail_domain="brico.example", clock=lambda: NOW)  # fmt: skip
    return definition, queued


def send(engine, mailer, **changes):
    settings = MailSettings("Brico Maison <rappel@brico.example>", PAGE, PROJECT_TEMPLATES,
                            **({"connections": 2, "rate": 1000} | changes))  # fmt: skip
    return send_emails(engine=engine, mailer=mailer, settings=settings, recall_id="R-2026-014",
                       templates=TemplateSet(PROJECT_TEMPLATES / "letters"),
                       clock=lambda: NOW)  # fmt: skip


@pytest.fixture
def mailbox():
    box = Mailbox()
    server = start_server(box)
    yield box, SmtpMailer(SmtpServer.from_url(server.url))
    server.stop()


def test_every_address_gets_one_notice_in_its_language_with_its_own_link(engine, mailbox):
    box, mailer = mailbox
    addresses = buyers(engine)
    _, queued = launched(engine, notify=["email", "sms", "letter"])
    assert (queued.emails, queued.texts) == (6, 0)  # e-mail first: no SMS while it may arrive

    report = send(engine, mailer)

    assert report.sent == 6 and sorted(box.received) == sorted(addresses)
    assert set(box.received.values()) == {1}
    key = page_key(engine)
    with Session(engine) as session:
        cases = {c.id: c for c in session.scalars(select(Case))}
    for address in addresses:
        (message,) = box.parsed(address)
        text = message.get_body(("plain",)).get_content()
        markup = message.get_body(("html",)).get_content()
        token = LINK.search(text)[1]
        case = cases[read_token(token, key)]
        assert f"/r/{token}" in markup and case.case_ref in text
        assert message["Content-Language"] == case.language
        subject = str(message["Subject"])
        opening = "Rappel de produit" if case.language == "fr" else "Product recall"
        assert subject.startswith(opening)
        assert "Perceuse-visseuse X200" in subject
        assert message["Message-ID"].startswith(f"<{case.case_ref}.")
        assert case.status == "notified" and case.notified_by == "email"
    with Session(engine) as session:
        channels = session.scalars(
            select(CaseEvent.channel).where(CaseEvent.new_status == "notified")
        ).all()
    assert channels == ["email"] * 6

    again = send(engine, mailer)
    assert again.sent == 0 and box.total == 6  # sent is sent


def test_an_invalid_or_missing_address_gets_no_email_and_the_next_notice(engine, mailbox):
    box, mailer = mailbox
    seed(
        engine,
        customer("C001", email="jean.dupont@@exemple", phone="06 12 34 56 78"),
        customer("C002", email=None, phone="06 12 34 56 79"),
        customer("C003", email="ok@exemple.fr"),
        *(line(c, "2026-03-01") for c in ("C001", "C002", "C003")),
    )
    _, queued = launched(engine, notify=["email", "sms", "letter"])
    assert (queued.emails, queued.texts) == (1, 2)
    send(engine, mailer)
    assert list(box.received) == ["ok@exemple.fr"]


def test_a_refused_address_moves_the_case_on_and_a_busy_server_waits(engine, mailbox):
    box, mailer = mailbox
    addresses = buyers(engine, 3, address_line1=None)  # no letter: the call list is next
    box.refuse = {addresses[0]: f"550 5.1.1 <{addresses[0]}>: no such user",
                  addresses[1]: "451 4.3.0 Try later"}  # fmt: skip
    launched(engine, notify=["email", "sms"])

    report = send(engine, mailer)
    assert (report.sent, report.refused, report.deferred) == (1, 1, 1)
    with Session(engine) as session:
        refused = session.scalar(select(Case).where(Case.customer_id == "C000"))
        notice = session.get_one(EmailNotice, refused.id)
        assert notice.state == "failed" and "***@exemple.fr" in notice.detail
        assert "client0" not in notice.detail  # the server's reply quotes no address in clear
        texts = session.scalars(select(Message.status).where(Message.case_id == refused.id))
        assert list(texts) == ["waiting"]  # its SMS is next
        assert session.get_one(EmailNotice, refused.id + 1).state == "queued"

    box.refuse = {}
    assert send(engine, mailer).sent == 1
    assert box.received[addresses[1]] == 1


def test_a_bounce_takes_the_notice_back_once(engine, mailbox):
    _, mailer = mailbox
    buyers(engine, 2, address_line1=None, phone=None)
    launched(engine, notify=["email", "sms"])
    send(engine, mailer)
    with Session(engine) as session:
        first, second = session.scalars(select(Case).order_by(Case.id)).all()
        message_id = session.get_one(EmailNotice, first.id).message_id
    keys = [message_id, second.case_ref, "<nothing@elsewhere>"]

    done = record_bounces(engine, keys, actor="test", now=NOW)
    assert (done.applied, done.repeated, done.unknown) == (2, 0, ["<nothing@elsewhere>"])
    again = record_bounces(engine, keys[:2], actor="test", now=NOW)
    assert (again.applied, again.repeated) == (0, 2)
    with Session(engine) as session:
        for case in session.scalars(select(Case)):
            # No phone and no letter: back to identified, reached by the public notice alone.
            assert (case.status, case.notified_by, case.notice_only) == ("identified", None, True)


def test_starttls_and_a_login_are_used_and_a_wrong_password_is_said(engine, tmp_path):
    box = Mailbox()
    server = start_server(box, tls_dir=tmp_path, login=("rappel", "s3cret"))
    try:
        buyers(engine, 2)
        launched(engine)
        trust = ssl.create_default_context(cafile=str(server.cafile))
        wrong = SmtpServer.from_url(f"smtp://rappel:nope@127.0.0.1:{server.controller.port}")
        report = send(engine, SmtpMailer(wrong, trust))
        assert report.sent == 0 and "refused the user and password" in report.problems[0]
        right = SmtpServer.from_url(f"smtp://rappel:s3cret@127.0.0.1:{server.controller.port}")
        assert send(engine, SmtpMailer(right, trust)).sent == 2
        assert box.total == 2
    finally:
        server.stop()


def test_without_a_server_each_notice_is_an_eml_file(engine, tmp_path):
    buyers(engine, 3)
    launched(engine)
    folder = tmp_path / "outbox"
    report = send(engine, OutboxMailer(folder))
    files = sorted(folder.glob("*.eml"))
    assert report.sent == 3 and len(files) == 3
    message = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert message["To"].addresses[0].addr_spec.endswith("@exemple.fr")
    assert LINK.search(message.get_body(("plain",)).get_content())
    assert send(engine, OutboxMailer(folder)).sent == 0 and len(list(folder.glob("*"))) == 3
    with Session(engine) as session:  # written down, not sent: nobody is notified by a file
        assert set(session.scalars(select(EmailNotice.state))) == {"written"}
        assert set(session.scalars(select(Case.status))) == {"identified"}


def test_a_call_waits_call_after_for_a_digital_answer(engine):
    buyers(engine, 2, address_line1=None)
    _, queued = launched(engine, notify=["email", "sms"], call_after="48h")
    assert queued.calls_held == 2
    with Session(engine) as session:
        held = session.scalars(select(Case.next_call_at)).all()
    assert held == [NOW + dt.timedelta(hours=48)] * 2


def test_the_smtp_url_is_read_and_its_mistakes_named():
    server = SmtpServer.from_url(
        "smtp://rappel%40brico:p%C3%A4ss@mail.example:2525?starttls=required"
    )
    assert (server.host, server.port, server.user, server.password, server.starttls) == (
        "mail.example", 2525, "rappel@brico", "päss", "required")  # fmt: skip
    assert SmtpServer.from_url("smtps://mail.example").port == 465
    with pytest.raises(ValueError, match="smtp://user:password@host:587"):
        SmtpServer.from_url("http://mail.example")


def test_the_report_counts_notices_contacts_and_settlements_per_channel(engine, mailbox):
    from recall.reporting.completion import completion
    from recall.selfservice.answers import record_web_answer
    from recall.selfservice.checks import Answer

    box, mailer = mailbox
    addresses = buyers(engine, 3)
    box.refuse = {addresses[2]: "550 5.1.1 no such user"}
    launched(engine, notify=["email", "sms", "letter"], stores=[])
    send(engine, mailer)
    with Session(engine) as session:
        first = session.scalar(select(Case.id).where(Case.customer_id == "C000"))
    record_web_answer(engine=engine, case_id=first, answer=Answer("not_anymore"),
                      clock=lambda: NOW + dt.timedelta(hours=1))  # fmt: skip

    reach = completion(engine=engine, recall_id="R-2026-014").reach
    email, web = reach.by_channel["email"], reach.by_channel["web"]
    assert (email.notified, email.contacted, email.resolved) == (2, 0, 0)
    assert (web.notified, web.contacted, web.resolved) == (0, 1, 1)
    assert reach.emails == {"sent": 2, "failed": 1}
    assert reach.texts == {"waiting": 1}  # the refused address's SMS is next


def test_the_forecast_starts_calling_when_the_calls_stop_waiting():
    from dataclasses import replace

    from recall.domain.definition import CallPolicy
    from recall.domain.forecast import Pace, forecast

    pace = Pace(cases_left=500, agents=5, calls=0, reached=0, handle_minutes=None)
    at_once = forecast(pace, CallPolicy(), NOW)
    waiting = forecast(replace(pace, held_until=NOW + dt.timedelta(hours=48)), CallPolicy(), NOW)
    assert waiting.held_until == NOW + dt.timedelta(hours=48)
    assert waiting.done_by > at_once.done_by and waiting.done_by > NOW + dt.timedelta(hours=48)
    past = forecast(replace(pace, held_until=NOW - dt.timedelta(hours=1)), CallPolicy(), NOW)
    assert (past.done_by, past.held_until) == (at_once.done_by, None)
