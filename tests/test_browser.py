"""The console in a real browser (Debian's headless Chromium, driven by Playwright).

Screenshots are taken on every run; `make screenshots` (RECALL_UPDATE_DOCS=1) writes them into
docs/, to be looked at when the pages change.
"""

import os
import re
from pathlib import Path

import pytest

from tests.console_support import PASSWORD, RECALL, build_console
from tests.servers import free_port, serving

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[1] / "docs"
UPDATE_DOCS = os.environ.get("RECALL_UPDATE_DOCS") == "1"

if not Path(CHROMIUM).exists():
    if os.environ.get("RECALL_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests are required but {CHROMIUM} is missing")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@pytest.fixture
def server(tmp_path):
    """The console on a free local port, over a SQLite database of 9 callers and 3 agents."""
    app, web = build_console(f"sqlite:///{tmp_path / 'recall.db'}", tmp_path, customers=9)
    with serving(web, free_port()) as address:
        yield address
    app.engine.dispose()


@pytest.fixture
def shots(tmp_path) -> Path:
    return DOCS if UPDATE_DOCS else tmp_path


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def record(page: Page, disposition: str, outcome: str = "", note: str = "") -> None:
    if outcome:
        page.select_option("#outcome", outcome)
    if note:
        page.fill("#note", note)
    page.click(f"button[name=disposition][value={disposition}]")


def test_an_agent_works_three_cases_and_reporting_sees_the_figures_move(server, browser, shots):
    reporting = browser.new_page(viewport={"width": 1200, "height": 1100})
    log_in(reporting, server, "rita")
    expect(reporting).to_have_url(f"{server}/reports")
    reporting.click(f"text={RECALL}")
    expect(reporting.locator("#resolved")).to_have_text("0")
    expect(reporting.locator("#contacted")).to_have_text("0")

    agent = browser.new_page(viewport={"width": 1200, "height": 1000})
    log_in(agent, server, "alice")
    expect(agent).to_have_url(f"{server}/my/list")
    expect(agent.locator("#left")).to_have_text("3")
    agent.screenshot(path=shots / "console-my-list.png", full_page=True)

    agent.click("text=Dossier suivant")
    expect(agent.locator(".script")).to_contain_text("Bonjour, je suis Agent A1")
    agent.screenshot(path=shots / "console-case.png", full_page=True)
    record(agent, "reached", "refund", note="<b>bring the receipt</b>")
    expect(agent.locator("[role=status]")).to_contain_text("enregistré (réglé)")  # next case open
    record(agent, "reached", "declined", note="keeps the drill, warned of the risk")
    expect(agent.locator("[role=status]")).to_contain_text("enregistré (a refusé la solution)")
    record(agent, "wrong_number")
    expect(agent.locator("[role=status]")).to_contain_text("enregistré (injoignable).")
    expect(agent.locator("[role=status]")).to_contain_text("Votre liste est vide : plus personne")

    agent.goto(f"{server}/my/list")
    expect(agent.locator("#left")).to_have_text("0")
    expect(agent.locator("#done")).to_have_text("3")

    reporting.reload()
    expect(reporting.locator("#contacted")).to_have_text("2")
    expect(reporting.locator("#resolved")).to_have_text("1")
    assert re.search(r"\+33|06 \d\d", reporting.content()) is None
    reporting.screenshot(path=shots / "console-report.png", full_page=True)


def test_a_lead_sees_validation_errors_of_an_uploaded_definition(server, browser, tmp_path, shots):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: R-BAD\ntitle: x\nhazard: extreme\nproducts: []\n")
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    log_in(page, server, "lea")
    expect(page).to_have_url(f"{server}/recalls")
    page.set_input_files("#definition", bad)
    page.click("text=Vérifier et lancer")
    expect(page.locator("#problems")).to_contain_text("hazard")
    page.screenshot(path=shots / "console-recalls.png", full_page=True)
