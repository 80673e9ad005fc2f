"""The digital reach end to end, in a real browser (Debian's headless Chromium, Playwright): a
recall's e-mails go to a real SMTP server (aiosmtpd); a customer opens the link of the one they
received on a phone and answers; the agent's list and the progress report move. axe-core checks
every page of the customer's for WCAG 2.1 A/AA.

`make screenshots` (RECALL_UPDATE_DOCS=1) writes docs/email-notice.png, the French e-mail as a
mail reader shows it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

import pytest

from recall.accounts.users import add_user
from recall.bootstrap import App
from recall.calling.assignment import assign_call_list
from recall.db.engine import make_engine
from recall.db.models import Store
from recall.db.secrets import page_key
from recall.domain.page_tokens import read_token
from recall.mail.smtp import SmtpMailer, SmtpServer
from recall.reach.emails import send_emails
from recall.reach.queue import queue_digital_notices
from recall.settings import Settings
from recall.web.app import create_app
from tests.console_support import MONDAY_10H_PARIS, PASSWORD, RECALL
from tests.servers import free_port, serving
from tests.smtp_server import Mailbox, start_server
from tests.support import agent, customer, launch, line, seed

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[1] / "docs"
UPDATE_DOCS = os.environ.get("RECALL_UPDATE_DOCS") == "1"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}  # fmt: skip
DESK = {"viewport": {"width": 1200, "height": 1000}}
WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}
BUYERS = ("Élodie", "Marc", "Inès", "Hugo")  # one drill each, an e-mail and a mobile, no address

if not Path(CHROMIUM).exists():
    if os.environ.get("RECALL_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests are required but {CHROMIUM} is missing")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Browser, Page, expect, sync_playwright  # noqa: E402


@dataclass(frozen=True)
class Reach:
    """A launched recall whose e-mails were sent, and the console serving its links."""

    base: str
    mailbox: Mailbox
    key: bytes
    shots: Path

    def html_of(self, name: str) -> str:
        (message,) = self.mailbox.parsed(address_of(name))
        body = message.get_body(("html",))
        assert isinstance(message, EmailMessage) and body is not None
        return body.get_content()

    def link_of(self, name: str) -> str:
        found = re.search(re.escape(self.base) + r"/r/[A-Z2-7]{24}", self.html_of(name))
        assert found, f"no self-service link in the e-mail to {name}"
        return found[0]


def address_of(name: str) -> str:
    return f"{name.lower().replace('è', 'e').replace('é', 'e')}@exemple.fr"


@pytest.fixture
def reach(database_url, tmp_path) -> Iterator[Reach]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp_path, database_url=database_url, now=MONDAY_10H_PARIS,
                        page_url=base, mail_from="Brico Maison <rappel@brico.example>")  # fmt: skip
    app = App(settings, make_engine(database_url))
    mailbox = Mailbox()
    smtp = start_server(mailbox)
    try:
        _launch_and_send(app, SmtpMailer(SmtpServer.from_url(smtp.url)))
    finally:
        smtp.stop()
    shots = DOCS if UPDATE_DOCS and database_url.startswith("sqlite") else tmp_path
    with serving(create_app(app), port):
        yield Reach(base, mailbox, page_key(app.engine), shots)
    app.engine.dispose()


def _launch_and_send(app: App, mailer: SmtpMailer) -> None:
    """The recall launched with e-mail then SMS notices and no hold on the calls, its call
    list given to agent A1, its e-mails sent; an agent and a reporting user to log in."""
    engine, clock = app.engine, app.clock
    rows: list = [agent("A1")]
    for store_id, name in (("S001", "Brico Part-Dieu"), ("S002", "Brico Confluence")):
        rows.append(Store(store_id=store_id, name=name, city="Lyon", row_hash="x"))
    for n, name in enumerate(BUYERS):
        rows += [customer(f"C{n:03d}", first_name=name, email=address_of(name),
                          phone=f"06 12 34 56 {n:02d}", address_line1=None),
                 line(f"C{n:03d}", "2026-03-01")]  # fmt: skip
    seed(engine, *rows)
    definition = launch(engine, clock=clock, notify=["email", "sms"], call_after="0h")
    queued = queue_digital_notices(engine=engine, definition=definition,
                                   mail_domain="brico.example", clock=clock)  # fmt: skip
    assert (queued.emails, queued.texts, queued.calls_held) == (len(BUYERS), 0, 0)
    assign_call_list(engine=engine, recall_id=RECALL, home_language="fr", clock=clock)
    sent = send_emails(engine=engine, mailer=mailer, templates=app.templates,
                       settings=app.mail_settings, recall_id=RECALL, clock=clock)  # fmt: skip
    assert sent.sent == len(BUYERS), sent.problems
    for username, role, agent_id in (("alice", "agent", "A1"), ("rita", "reporting", None)):
        add_user(engine=engine, username=username, password=PASSWORD, role=role,
                 agent_id=agent_id)  # fmt: skip


@pytest.fixture
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def assert_accessible(page: Page) -> None:
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_a_customer_answers_from_their_email_and_the_list_and_the_report_follow(reach, browser):
    """Élodie opens her e-mail on her phone, follows its button and asks for a refund in a
    store: her case leaves agent A1's list, and the report counts her in touch and settled."""
    case_id = read_token(reach.link_of("Élodie").rpartition("/")[2], reach.key)
    mine = f'#queue a[href="/cases/{case_id}"]'
    agent = browser.new_context(**DESK).new_page()
    log_in(agent, reach.base, "alice")
    expect(agent).to_have_url(f"{reach.base}/my/list")
    expect(agent.locator("#left")).to_have_text(str(len(BUYERS)))
    expect(agent.locator(mine)).to_have_count(1)
    report = browser.new_context(**DESK).new_page()
    log_in(report, reach.base, "rita")
    report.goto(f"{reach.base}/reports/{RECALL}")
    expect(report.locator("#notified")).to_have_text(str(len(BUYERS)))  # every e-mail arrived
    expect(report.locator("#contacted")).to_have_text("0")
    expect(report.locator("#resolved")).to_have_text("0")
    # A case counts under the channel it was identified with: these were all for the call list
    # (the report in French, the console's home language).
    by_call_list = report.locator("#channels tbody tr").filter(has_text="Appels").locator("td")
    expect(by_call_list).to_have_text(["Appels", "4", "4", "0", "0", "0", "0"])

    def reach_row(channel: str):
        return report.locator(f"#reach tbody tr:has(td:text-is('{channel}')) td")

    web = "Page de réponse en ligne"
    expect(reach_row("E-mail")).to_have_text(["E-mail", "4", "0", "0"])
    expect(reach_row(web)).to_have_text([web, "0", "0", "0"])

    mail = browser.new_page(viewport={"width": 800, "height": 900})
    # The docs show the link at a public address, not at this test's port.
    mail.set_content(reach.html_of("Élodie").replace(reach.base, "https://rappel.brico.example"))
    expect(mail.locator("html")).to_have_attribute("lang", "fr")
    mail.screenshot(path=reach.shots / "email-notice.png", full_page=True)
    phone = browser.new_context(**PHONE).new_page()
    phone.set_content(reach.html_of("Élodie"))  # the e-mail, read on the phone
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no zoomed-out page
    phone.click("text=Répondre en ligne")
    expect(phone).to_have_url(reach.link_of("Élodie"))
    expect(phone.locator("h1")).to_contain_text("Perceuse-visseuse X200")
    assert_accessible(phone)
    phone.fill("#postal_code", "69001")
    phone.click("button[type=submit]")
    expect(phone.locator("legend").first).to_have_text("Avez-vous encore le produit ?")
    assert_accessible(phone)
    phone.check("#possession-has_it")
    phone.check("#remedy-refund")
    phone.select_option("#store_id", "S002")
    phone.click("text=Envoyer ma réponse")
    expect(phone.locator("h1")).to_have_text("Merci, Élodie")
    expect(phone.locator("main")).to_contain_text("Brico Confluence")
    assert_accessible(phone)

    agent.reload()
    expect(agent.locator("#left")).to_have_text(str(len(BUYERS) - 1))
    expect(agent.locator(mine)).to_have_count(0)
    expect(agent.locator("#queue tbody tr")).to_have_count(len(BUYERS) - 1)
    for name in BUYERS[1:]:
        expect(agent.locator("#queue")).to_contain_text(name)
    report.reload()
    expect(report.locator("#contacted")).to_have_text("1")
    expect(report.locator("#resolved")).to_have_text("1")
    expect(by_call_list).to_have_text(["Appels", "4", "4", "1", "1", "0", "0"])
    expect(reach_row(web)).to_have_text([web, "0", "1", "1"])  # got in touch, settled
    expect(report.locator("#outcomes")).to_contain_text("remboursement")


def test_a_link_with_one_character_changed_shows_the_unavailable_page(reach, browser):
    link = reach.link_of("Marc")
    forged = link[:-1] + ("B" if link.endswith("A") else "A")
    phone = browser.new_context(**PHONE).new_page()
    answer = phone.goto(forged)
    assert answer is not None and answer.status == 404
    expect(phone.locator("h1")).to_have_text("Cette page n'est pas disponible")
    expect(phone.locator("main")).not_to_contain_text("Marc")
    assert_accessible(phone)
