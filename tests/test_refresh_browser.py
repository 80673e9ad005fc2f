"""The report refreshes itself in a real browser (Debian's headless Chromium, Playwright): a
figure changed in the database shows within the refresh period without a reload; without
JavaScript the page still shows its figures; a session logged out stops the refreshing without
an error; the Content-Security-Policy runs the console's script and no inline one.

The page's own timers run on Playwright's clock, moved on by the test: the 30 s of the
refresh pass at once, and the fetches they start are real.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from recall.db.models import Case
from tests import browsers
from tests.console_support import PASSWORD, RECALL, build_console
from tests.servers import free_port, serving

browser = browsers.browser  # the fixture every browser test shares
PERIOD_MS = 30_000  # the report's data-refresh

from playwright.sync_api import Browser, Page, expect  # noqa: E402


@pytest.fixture
def console(tmp_path):
    """Over SQLite only: the script and the pages it swaps are the same on either database
    (the figures' queries are tested on both in test_report_pages)."""
    app, web = build_console(f"sqlite:///{tmp_path / 'recall.db'}", tmp_path)
    with serving(web, free_port()) as address:
        yield app, address
    app.engine.dispose()


def log_in(page: Page, base: str, username: str = "rita") -> None:
    page.goto(f"{base}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{base}/reports")


def report_page(browser: Browser, base: str, **context) -> Page:
    """Rita on the report, her page's timers on a clock the test moves on."""
    page = browser.new_context(viewport={"width": 1200, "height": 1000}, **context).new_page()
    if context.get("java_script_enabled", True):
        page.clock.install()
    log_in(page, base)
    page.goto(f"{base}/reports/{RECALL}")
    return page


def settle_one_case(engine) -> None:
    """A case settled meanwhile, as the database says it (whoever did it)."""
    with Session(engine) as session, session.begin():
        first = session.scalar(select(Case.id).order_by(Case.id).limit(1))
        session.execute(update(Case).where(Case.id == first).values(status="resolved"))


def refreshes(page: Page) -> list[str]:
    """The refresh requests the page makes from now on."""
    made: list[str] = []
    page.on("request", lambda r: made.append(r.url) if r.headers.get("x-refresh") else None)
    return made


def counted(page: Page, made: list[str], at_least: int) -> int:
    """How many refreshes were made, once `at_least` came and a moment passed for any more."""
    for _ in range(100):
        if len(made) >= at_least:
            break
        page.wait_for_timeout(50)
    page.wait_for_timeout(300)
    return len(made)


def test_a_figure_changed_in_the_database_shows_without_a_reload(console, browser):
    app, base = console
    page = report_page(browser, base)
    expect(page.locator("#resolved")).to_have_text("0")
    page.evaluate("window.notReloaded = true")
    made = refreshes(page)
    settle_one_case(app.engine)
    page.clock.run_for(PERIOD_MS - 1_000)
    expect(page.locator("#resolved")).to_have_text("0")  # not before its time
    assert counted(page, made, 0) == 0
    page.clock.run_for(2_000)
    expect(page.locator("#resolved")).to_have_text("1")
    expect(page.locator("#resolved-share")).to_contain_text("16,7")
    assert page.evaluate("window.notReloaded") is True  # swapped in place, not reloaded
    assert made == [f"{base}/reports/{RECALL}"]  # one fetch for the page's three regions
    expect(page.locator("[data-refresh]")).to_have_count(3)


def test_without_javascript_the_page_shows_its_figures_and_their_age(console, browser):
    app, base = console
    page = report_page(browser, base, java_script_enabled=False)
    expect(page.locator("#identified")).to_have_text("6")
    expect(page.locator("#charts svg").first).to_be_visible()
    expect(page.locator("#headline .updated")).to_have_text(
        "Mis à jour à 10:00, votre heure (Paris)."
    )
    settle_one_case(app.engine)
    page.reload()
    expect(page.locator("#resolved")).to_have_text("1")


def test_a_page_logged_out_stops_refreshing_without_an_error(console, browser):
    _, base = console
    page = report_page(browser, base)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    made = refreshes(page)
    page.clock.run_for(PERIOD_MS + 1_000)
    assert counted(page, made, 1) == 1  # logged in: refreshed
    other = page.context.new_page()  # logged out in another tab of the same browser
    other.goto(f"{base}/reports")
    other.click("header form[action='/logout'] button")
    expect(other).to_have_url(f"{base}/login")
    page.clock.run_for(PERIOD_MS)
    assert counted(page, made, 2) == 2  # the refresh that met the logged-out session...
    page.clock.run_for(5 * PERIOD_MS)
    assert counted(page, made, 3) == 2  # ...was the last: no loop to the login page
    expect(page.locator("#identified")).to_have_text("6")  # the page stays as it was
    assert errors == []


def test_the_policy_runs_the_consoles_script_and_no_inline_one(console, browser):
    _, base = console
    context = browser.new_context()
    context.add_init_script(
        "window.violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    page = context.new_page()
    log_in(page, base)
    answer = page.goto(f"{base}/reports/{RECALL}")
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    loaded = page.evaluate(
        "performance.getEntriesByType('resource').map(e => new URL(e.name).pathname)"
    )
    assert "/static/refresh.js" in loaded
    ran = page.evaluate(
        "() => { const s = document.createElement('script');"
        " s.textContent = 'window.injected = true'; document.head.appendChild(s);"
        " return window.injected === true; }"
    )
    assert ran is False
    violations = page.evaluate("window.violations")
    assert violations and all(v.startswith("script-src") for v in violations)
    assert not any("refresh.js" in v for v in violations)


def test_the_refresh_waits_while_the_user_types_in_a_region_or_the_tab_is_hidden(console, browser):
    _, base = console
    page = report_page(browser, base)
    made = refreshes(page)
    page.evaluate(  # a form field in each region, as a page with a form there would have
        "for (const id of ['headline', 'charts', 'tables'])"
        " document.getElementById(id).insertAdjacentHTML('beforeend', `<input id='note-${id}'>`)"
    )
    page.fill("#note-headline", "half a sentence")
    page.clock.run_for(PERIOD_MS + 1_000)
    expect(page.locator("#note-charts")).to_have_count(0)  # the other regions: refreshed
    expect(page.locator("#note-headline")).to_have_value("half a sentence")  # this one: kept
    assert counted(page, made, 1) == 1
    page.fill("#note-headline", "")
    page.locator("body").click()
    page.evaluate("Object.defineProperty(document, 'hidden', {value: true, configurable: true})")
    page.clock.run_for(3 * PERIOD_MS)
    assert counted(page, made, 2) == 1  # hidden: nothing fetched
    page.evaluate("Object.defineProperty(document, 'hidden', {value: false, configurable: true})")
    page.clock.run_for(PERIOD_MS)
    assert counted(page, made, 2) == 2
    expect(page.locator("#note-headline")).to_have_count(0)  # nothing typed: refreshed
