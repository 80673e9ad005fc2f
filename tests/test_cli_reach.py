"""`recall email ...` and `recall sms send` from the command line: what they say, what they do,
their exit codes."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.db.engine import make_engine
from recall.db.models import Case, EmailNotice
from tests.smtp_server import Mailbox, start_server
from tests.support import command_line
from tests.test_email_notices import NOW, buyers, launched


@pytest.fixture
def run(database_url, tmp_path, monkeypatch):
    command = command_line(monkeypatch, database_url, tmp_path / "var", NOW)

    def invoke(*args):
        done = command(*args)
        return done.exit_code, " ".join(done.output.split())

    return invoke


@pytest.fixture
def engine_of(database_url):
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_send_then_a_bounce_file_then_requeue(run, engine_of, tmp_path, monkeypatch):
    addresses = buyers(engine_of, 3, address_line1=None)
    launched(engine_of, notify=["email", "sms"])
    box = Mailbox()
    server = start_server(box)
    monkeypatch.setenv("RECALL_SMTP_URL", server.url)
    try:
        code, said = run("email", "send", "R-2026-014")
    finally:
        server.stop()
    assert code == 0 and "3 e-mail(s) handed to the mail server" in said
    assert sorted(box.received) == sorted(addresses)
    with Session(engine_of) as session:
        first = session.scalar(select(Case).order_by(Case.id))
        message_id = session.get_one(EmailNotice, first.id).message_id
    bounces = tmp_path / "bounces.csv"
    bounces.write_text(f"message_id;reason\n{message_id};mailbox full\n<x@y>;?\n", "utf-8")
    code, said = run("email", "bounces", bounces)
    assert code == 0 and "1 bounce(s) applied, 0 already recorded, 1 naming no e-mail" in said
    with Session(engine_of) as session:
        assert session.get_one(Case, first.id).status == "identified"
    code, said = run("email", "bounces", tmp_path / "nothing.csv")
    assert code == 2 and "no such file" in said
    code, said = run("email", "requeue", "R-2026-014")
    assert code == 0 and "0 e-mail(s) queued again" in said


def test_without_a_server_the_outbox_is_named_and_sms_are_sent_offline(run, engine_of):
    buyers(engine_of, 2)
    launched(engine_of, notify=["sms", "email"])
    code, said = run("email", "send", "R-2026-014")
    assert code == 0 and "0 e-mail(s)" in said  # every case's first notice is its SMS
    code, said = run("sms", "send", "R-2026-014")
    assert code == 0 and "2 SMS sent (offline)" in said
