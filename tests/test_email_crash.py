"""`recall email send` killed with kill -9 in the middle of sending, then run again: no address
gets two messages, and every address gets its one (see recall/reach/email_sending.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.db.models import Case, Customer, EmailNotice
from tests.smtp_server import Mailbox, start_server
from tests.test_email_notices import buyers, launched
from tests.test_launch_crash import RECALL

CUSTOMERS = 400
CONNECTIONS = 4


def command_env(tmp_path: Path, database_url: str, smtp_url: str) -> dict[str, str]:
    return dict(
        os.environ, RECALL_DATABASE_URL=database_url, RECALL_DATA_DIR=str(tmp_path / "var"),
        RECALL_SMTP_URL=smtp_url, RECALL_SMTP_CONNECTIONS=str(CONNECTIONS),
        RECALL_SMTP_RATE="400", RECALL_PAGE_URL="https://rappel.example.fr",
    )  # fmt: skip


def sending(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([*RECALL, "email", "send", "R-2026-014"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)  # fmt: skip


def wait_for(condition, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def finish(env: dict[str, str]) -> str:
    done = subprocess.run([*RECALL, "email", "send", "R-2026-014"], env=env, text=True,
                          capture_output=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return " ".join(done.stdout.split())


def states(engine) -> dict[str, str]:
    """Each address's outbox state."""
    with Session(engine) as session:
        rows = session.execute(
            select(Customer.email, EmailNotice.state)
            .join(Case, Case.customer_id == Customer.customer_id)
            .join(EmailNotice, EmailNotice.case_id == Case.id)
        ).all()
    return dict(rows)


def test_killed_while_the_server_holds_its_answers_then_resumed(engine, database_url, tmp_path):
    addresses = buyers(engine, CUSTOMERS)
    launched(engine)
    box = Mailbox(keep_bytes=False, hold_after=150)
    server = start_server(box)
    try:
        process = sending(command_env(tmp_path, database_url, server.url))
        wait_for(lambda: box.holding >= CONNECTIONS or process.poll() is not None)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        held_at_kill = box.holding
        box.hold_after = None
        box.released.set()  # the held messages had all arrived: the server delivers them
        said = finish(command_env(tmp_path, database_url, server.url))
    finally:
        server.stop()
    assert held_at_kill == CONNECTIONS
    assert all(box.received[a] == 1 for a in addresses), "every address exactly once"
    assert f"{CONNECTIONS} e-mail(s) were being handed over" in said
    held = [a for a, state in states(engine).items() if state == "handed_over"]
    assert len(held) == CONNECTIONS  # in doubt: never sent again, not counted as notified
    with Session(engine) as session:
        notified = session.scalar(
            select(Case.status).join(Customer, Customer.customer_id == Case.customer_id)
            .where(Customer.email == held[0])
        )  # fmt: skip
    assert notified == "identified"


def test_killed_at_any_moment_then_resumed(engine, database_url, tmp_path):
    addresses = buyers(engine, CUSTOMERS)
    launched(engine)
    box = Mailbox(keep_bytes=False)
    server = start_server(box)
    try:
        process = sending(command_env(tmp_path, database_url, server.url))
        wait_for(lambda: box.total >= CUSTOMERS // 3 or process.poll() is not None)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        stopped_at = box.total
        finish(command_env(tmp_path, database_url, server.url))
    finally:
        server.stop()
    assert stopped_at < CUSTOMERS, "the kill came before the end"
    assert max(box.received.values()) == 1, "no address got two"
    missing = [a for a in addresses if box.received[a] == 0]
    outbox = states(engine)
    # The one loss the design allows: a hand-over committed just before its "." left, at most
    # one per connection; each is left in doubt, never counted as notified.
    assert len(missing) <= CONNECTIONS
    assert all(outbox[a] == "handed_over" for a in missing)
    assert sum(box.received.values()) + len(missing) == CUSTOMERS
