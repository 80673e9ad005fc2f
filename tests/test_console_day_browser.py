"""A day at the console in a real browser, in French (the default) and in English: an agent
calls out, agrees a callback, answers the hotline (the caller found by name and postal code)
and escalates a burned customer, who comes first in the specialist's queue; the lead filters
the cases, exports them and closes the recall.

Screenshots are taken on every run; `make screenshots` writes them into docs/.
"""

import csv
import io
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recall.db.models import Case, Customer
from tests import browsers
from tests.console_support import PASSWORD, RECALL, build_console
from tests.servers import free_port, serving

browser = browsers.browser  # the fixture every browser test shares
DOCS, UPDATE_DOCS = browsers.DOCS, browsers.UPDATE_DOCS

# What each language says where the day is checked.
SAID = {
    "fr": {
        "next": "Dossier suivant", "hello": "Bonjour, je suis Agent A1", "saved": "enregistré",
        "their_clock": "heure du client", "my_clock": "votre heure", "find": "Rechercher",
        "open": "Ouvrir", "inbound": "Client qui appelle la ligne dédiée",
        "escalated": "Dossier escaladé", "filter": "Filtrer", "export": "Exporter",
        "close": "Clôturer", "list": "Ma liste", "none_callable": "Dossier suivant",
    },
    "en": {
        "next": "Next case", "hello": "Bonjour, je suis Agent A1", "saved": "saved",
        "their_clock": "customer's time", "my_clock": "your time", "find": "Find",
        "open": "Open", "inbound": "Customer calling the hotline",
        "escalated": "Escalated case", "filter": "Filter", "export": "Export CSV",
        "close": "Close", "list": "My list", "none_callable": "Next case",
    },
}  # fmt: skip
CALLER = "C00004"  # the customer who calls the hotline: Marc Laurent, 75011 Paris


@pytest.fixture
def server(tmp_path):
    """The console over SQLite: 9 callers of alice (A1) and bruno (A2), sam the specialist."""
    app, web = build_console(f"sqlite:///{tmp_path / 'recall.db'}", tmp_path, customers=9)
    with Session(app.engine) as session, session.begin():
        session.execute(
            update(Customer).where(Customer.customer_id == CALLER)
            .values(first_name="Marc", last_name="Laurent", postal_code="75011", city="Paris")
        )  # fmt: skip
    with serving(web, free_port()) as address:
        yield address, app
    app.engine.dispose()


def shot(page: Page, tmp_path: Path, name: str, lang: str) -> None:
    folder = DOCS if UPDATE_DOCS else tmp_path
    page.screenshot(path=folder / f"{name}{'' if lang == 'fr' else '-en'}.png", full_page=True)


def open_as(browser, base: str, username: str, lang: str) -> Page:
    """A browser page logged in as `username`, in `lang` (chosen in the header when English)."""
    page = browser.new_page(viewport={"width": 1250, "height": 1000})
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    if lang == "en":
        page.click("header button[lang=en]")
    expect(page.locator("html")).to_have_attribute("lang", lang)
    return page


def record(page: Page, disposition: str, **fields: str) -> None:
    if "outcome" in fields:
        page.select_option("#outcome", fields["outcome"])
    for name in ("skill", "note", "callback_at"):
        if name in fields:
            page.fill(f"#record [name={name}]", fields[name])
    page.click(f"#record button[name=disposition][value={disposition}]")


def flash(page: Page):
    return page.locator("[role=status]")


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_an_agent_works_a_day_and_the_lead_filters_exports_and_closes(
    server, browser, lang, tmp_path
):
    base, app = server
    said = SAID[lang]
    agent = open_as(browser, base, "alice", lang)
    agent.goto(f"{base}/my/list")
    expect(agent.locator("h1")).to_have_text(said["list"])
    shot(agent, tmp_path, "console-agent-list", lang)

    agent.click(f"text={said['next']}")  # outbound: the script in the customer's language
    expect(agent.locator("#script")).to_contain_text(said["hello"])
    expect(agent.locator("#script")).not_to_contain_text("(s)")
    shot(agent, tmp_path, "console-agent-case", lang)
    record(agent, "reached", outcome="refund")
    expect(flash(agent)).to_contain_text(said["saved"])

    callback_ref = agent.locator("h1 .muted").inner_text().strip("- ").strip()
    record(agent, "callback_requested", callback_at="2026-11-24T10:30")  # tomorrow, their clock
    expect(flash(agent)).to_contain_text(said["saved"])
    agent.goto(f"{base}/my/list")
    row = agent.locator("#queue tr", has_text=callback_ref)
    expect(row).to_contain_text(said["their_clock"])
    expect(agent.locator("body")).not_to_contain_text("UTC")

    agent.goto(f"{base}/hotline")  # inbound: Marc Laurent calls, found by name and postal code
    agent.fill("#q", "laurent 75011")
    agent.click(f"text={said['find']}")
    expect(agent.locator("#hits tbody tr")).to_have_count(1)
    expect(agent.locator("#hits")).to_contain_text("Marc L.")
    expect(agent.locator("#hits")).not_to_contain_text("06 ")  # no phone in the list
    agent.click(f"#hits >> text={said['open']}")
    expect(agent.locator("body")).to_contain_text(said["inbound"])
    expect(agent.locator("#record button[value=no_answer]")).to_have_count(0)
    shot(agent, tmp_path, "console-agent-hotline", lang)
    record(agent, "reached", outcome="replacement")
    expect(flash(agent)).to_contain_text(said["saved"])

    agent.goto(f"{base}/my/list")
    agent.click(f"text={said['next']}")  # a burned customer: to a health specialist
    burned_ref = agent.locator("h1 .muted").inner_text().strip("- ").strip()
    record(agent, "reached", outcome="escalated", skill="health",
           note="brûlure à la main en rechargeant la batterie")  # fmt: skip
    expect(flash(agent)).to_contain_text(said["saved"])

    specialist = open_as(browser, base, "sam", lang)
    specialist.goto(f"{base}/my/list")
    expect(specialist.locator("#queue tbody tr").first).to_contain_text(burned_ref)
    specialist.click(f"text={said['next']}")
    expect(specialist.locator("h1")).to_contain_text(burned_ref)
    escalation = specialist.locator("#escalation")
    expect(escalation).to_contain_text(said["escalated"])
    expect(escalation).to_contain_text("brûlure à la main")
    above = specialist.evaluate(
        "document.querySelector('#escalation').compareDocumentPosition("
        "document.querySelector('#script')) & Node.DOCUMENT_POSITION_FOLLOWING"
    )
    assert above, "the escalation shows before the script"
    shot(specialist, tmp_path, "console-specialist-case", lang)

    lead = open_as(browser, base, "lea", lang)
    lead.goto(f"{base}/recalls/{RECALL}/cases")
    lead.select_option("#f-status", "resolved")
    lead.click(f"#filters button >> text={said['filter']}")
    expect(lead).to_have_url(re.compile(r"/cases\?status=resolved"))  # a view to bookmark
    with Session(app.engine) as session:
        resolved = set(session.scalars(select(Case.case_ref).where(Case.status == "resolved")))
    assert len(resolved) == 2  # the refund, the caller's replacement
    expect(lead.locator("#cases tbody tr")).to_have_count(len(resolved))
    shot(lead, tmp_path, "console-lead-cases", lang)
    with lead.expect_download() as download:
        lead.click("#export")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text), delimiter=";" if ";" in text[:200] else ","))
    assert {r["case_ref"] for r in rows} == resolved

    lead.goto(f"{base}/recalls/{RECALL}")
    lead.click(f"text={said['close']}")
    expect(lead.locator("#confirm")).to_be_visible()
    lead.click("#confirm button.primary")
    lead.goto(f"{base}/recalls/{RECALL}/close")
    expect(lead.locator("#closed")).to_be_visible()
    shot(lead, tmp_path, "console-lead-closed", lang)
    agent.goto(f"{base}/my/list")
    expect(agent.locator("#queue")).to_have_count(0)  # closed: nothing left to call
