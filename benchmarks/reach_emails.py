"""The e-mail notices at scale, for benchmarks.reach: an aiosmtpd server in a process of its own,
`recall email send` in another, the checks afterwards; the peer (bare smtplib, pre-composed
messages, the same connections); and a profile of the sender, each thread's processor time.
"""

from __future__ import annotations

import cProfile
import datetime as dt
import multiprocessing
import os
import pstats
import resource
import smtplib
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from email.utils import formataddr, parseaddr
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from sqlalchemy import Engine, func, select

from recall.campaign.definitions import get_definition
from recall.campaign.launches import RECALL_CLI
from recall.db.engine import make_engine
from recall.db.models import Case, CaseEvent, EmailNotice
from recall.db.secrets import page_key
from recall.mail.smtp import SmtpMailer, SmtpServer
from recall.notices.letter_fields import shared_fields, store_names
from recall.notices.templates import TemplateSet
from recall.reach import email_sending
from recall.reach.email_message import EmailComposer
from recall.reach.emails import MailSettings, send_emails
from recall.settings import PROJECT_TEMPLATES

MAIL_FROM = "Brico Maison <rappel@brico.example>"
PAGE_BASE = "https://rappel.brico.example"


def _serve_mail(pipe: Connection) -> None:
    from tests.smtp_server import Mailbox, start_server

    mailbox = Mailbox(keep_bytes=False)
    server = start_server(mailbox)
    pipe.send(server.url)
    pipe.recv()  # told to stop
    server.stop()
    used = resource.getrusage(resource.RUSAGE_SELF)
    pipe.send((dict(mailbox.received), used.ru_utime + used.ru_stime))


@dataclass
class MailServer:
    """tests/smtp_server.py's aiosmtpd server in a process of its own: the sender and the
    server share no interpreter, as they share no machine in production."""

    url: str
    pipe: Connection
    process: BaseProcess

    @classmethod
    def start(cls) -> MailServer:
        spawn = multiprocessing.get_context("spawn")
        ours, theirs = spawn.Pipe()
        process = spawn.Process(target=_serve_mail, args=(theirs,))
        process.start()
        return cls(ours.recv(), ours, process)

    def stop(self) -> tuple[dict[str, int], float]:
        """What the server took, per address, and the processor time it used."""
        self.pipe.send("stop")
        received, cpu = self.pipe.recv()
        self.process.join(timeout=30)
        return received, cpu


@dataclass
class Sent:
    label: str
    what: str
    messages: int
    seconds: float
    size: int = 0  # bytes of a message
    cpu: float = 0.0  # processor seconds of the sender
    server_cpu: float = 0.0
    machine_load: float = 0.0  # the machine's load average at the start (other processes too)
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def send_by_command(label: str, url: str, recall_id: str, addresses: list[str],
                    connections: int, work: Path, now: dt.datetime) -> Sent:  # fmt: skip
    """`recall email send`, the command in its own process, as the lead runs it."""
    server = MailServer.start()
    env = dict(os.environ, RECALL_DATABASE_URL=url, RECALL_DATA_DIR=str(work),
               RECALL_SMTP_URL=server.url, RECALL_SMTP_CONNECTIONS=str(connections),
               RECALL_SMTP_RATE="1000000", RECALL_MAIL_FROM=MAIL_FROM, RECALL_PAGE_URL=PAGE_BASE,
               RECALL_NOW=now.isoformat())  # fmt: skip
    print(f"{label}: recall email send {recall_id} ({len(addresses):,} e-mails, {connections} "
          "connections) ...", flush=True)  # fmt: skip
    load, started, cpu = os.getloadavg()[0], time.perf_counter(), _children_cpu()
    try:
        with open(work / "email-send.log", "wb") as log:
            done = subprocess.run([*RECALL_CLI, "email", "send", recall_id], env=env, stdout=log,
                                  stderr=subprocess.STDOUT)  # fmt: skip
        seconds, cpu = time.perf_counter() - started, _children_cpu() - cpu
    finally:
        received, server_cpu = server.stop()
    said = (work / "email-send.log").read_text(errors="replace").strip().splitlines()
    run = Sent(label, "`recall email send`", len(addresses), seconds, cpu=cpu,
               server_cpu=server_cpu, machine_load=load)  # fmt: skip
    print(
        f"  {seconds:.1f} s ({run.per_second:,.0f} e-mails/s), processor {cpu:.1f} s, the "
        f"server's {server_cpu:.1f} s; it said: {said[-1] if said else ''}",
        flush=True,
    )
    run.checks = check_emails(make_engine(url), addresses, received)
    run.checks["the command ended well"] = done.returncode == 0
    if done.returncode != 0:
        print("\n".join(said[-30:]), flush=True)
    return run


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def check_emails(engine: Engine, addresses: list[str], received: dict[str, int]) -> dict:
    """What the server counted per address, and what the tables say of every case."""
    with engine.connect() as connection:
        sent = connection.scalar(select(func.count()).where(EmailNotice.state == "sent"))
        notified = connection.scalar(select(func.count()).where(
            Case.status == "notified", Case.notified_by == "email"))  # fmt: skip
        events = connection.scalar(select(func.count()).where(
            CaseEvent.channel == "email", CaseEvent.new_status == "notified"))  # fmt: skip
    engine.dispose()
    cases = len(addresses)
    checks = {
        "every address received exactly one message": (
            Counter(received.values()) == Counter({1: cases}) and set(addresses) == set(received)
        ),
        "every outbox row sent": sent == cases,
        "every case notified by e-mail, with its event": notified == events == cases,
    }
    for name, ok in checks.items():
        print(f"  {'ok ' if ok else 'FAILED'} {name}", flush=True)
    return checks


def sample_message(url: str, recall_id: str, now: dt.datetime) -> bytes:
    """One message of the recall, composed as the command composes them."""
    engine = make_engine(url)
    templates = TemplateSet(PROJECT_TEMPLATES / "letters")
    definition = get_definition(engine=engine, recall_id=recall_id)
    composer = EmailComposer(
        templates=templates,
        shared=shared_fields(engine, definition, templates, lambda: now),
        stores=store_names(engine),
        sender=formataddr(parseaddr(MAIL_FROM)),
        page_base=PAGE_BASE,
        key=page_key(engine),
        words_file=PROJECT_TEMPLATES / "notices" / "email.yaml",
    )
    first = email_sending._recipients(engine, email_sending._queued(engine, recall_id)[:1])[0]
    engine.dispose()
    return composer.compose(first, now).data


def bare_smtp(messages: int, connections: int, data: bytes) -> Sent:
    """The peer: smtplib over as many connections, the same bytes for every message, no
    database and no composing; a server of its own, started the same way."""
    server = MailServer.start()
    host, port = server.url.removeprefix("smtp://").split(":")
    shares = [range(c, messages, connections) for c in range(connections)]

    def loop(share: range) -> None:
        smtp = smtplib.SMTP(host, int(port))
        for n in share:
            smtp.sendmail("rappel@brico.example", f"peer{n}@exemple.fr", data)
        smtp.quit()

    threads = [threading.Thread(target=loop, args=(share,)) for share in shares]
    print(f"peer: {messages:,} pre-composed messages over {connections} connections ...",
          flush=True)  # fmt: skip
    load, started, cpu = os.getloadavg()[0], time.perf_counter(), time.process_time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    received, server_cpu = server.stop()
    run = Sent("-", "peer: bare smtplib, pre-composed", messages, seconds, len(data), cpu,
               server_cpu, load)  # fmt: skip
    run.checks = {"every message received": sum(received.values()) == messages}
    print(f"  {seconds:.1f} s ({run.per_second:,.0f}/s), processor {cpu:.1f} s, the server's "
          f"{server_cpu:.1f} s", flush=True)  # fmt: skip
    return run


def profile_sender(url: str, recall_id: str, connections: int, now: dt.datetime) -> None:
    """cProfile of the sender in this process, each sending thread's processor time (not its
    waits for the GIL), the profiles added up; the server still in its own process."""
    server = MailServer.start()
    settings = MailSettings(MAIL_FROM, PAGE_BASE, PROJECT_TEMPLATES, connections=connections,
                            rate=1_000_000)  # fmt: skip
    profiles: list[cProfile.Profile] = []
    plain = email_sending._Run.sender

    def profiled(run: email_sending._Run, work: object) -> None:
        profiler = cProfile.Profile(time.thread_time)
        profiles.append(profiler)
        profiler.runcall(plain, run, work)

    email_sending._Run.sender = profiled  # type: ignore[method-assign,assignment]
    try:
        report = send_emails(
            engine=make_engine(url), mailer=SmtpMailer(SmtpServer.from_url(server.url)),
            templates=TemplateSet(PROJECT_TEMPLATES / "letters"), settings=settings,
            recall_id=recall_id, clock=lambda: now,
        )  # fmt: skip
    finally:
        email_sending._Run.sender = plain  # type: ignore[method-assign]
        server.stop()
    print(f"profiled: {report.sent:,} sent in {report.seconds:.1f} s")
    stats = pstats.Stats(*profiles)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)
