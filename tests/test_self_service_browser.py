"""The customer's self-service page in a real browser on a phone-sized screen (Debian's
headless Chromium, driven by Playwright), checked at every step by axe-core for WCAG 2.1 A/AA.

`make screenshots` (RECALL_UPDATE_DOCS=1) writes docs/self-service-phone.png.
"""

import os
from pathlib import Path

import pytest

from recall.db.models import Store
from recall.db.secrets import page_key
from recall.domain.page_tokens import make_token
from tests.console_support import build_console
from tests.servers import free_port, serving
from tests.support import seed

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[1] / "docs"
UPDATE_DOCS = os.environ.get("RECALL_UPDATE_DOCS") == "1"
PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         "device_scale_factor": 2}  # fmt: skip
WCAG_21_AA = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
    "resultTypes": ["violations"],
}

if not Path(CHROMIUM).exists():
    if os.environ.get("RECALL_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests are required but {CHROMIUM} is missing")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from axe_playwright_python.sync_playwright import Axe  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402


@pytest.fixture
def server(tmp_path):
    """The application on a free local port, over SQLite; yields its address and one link."""
    app, web = build_console(f"sqlite:///{tmp_path / 'recall.db'}", tmp_path, customers=3)
    seed(app.engine, Store(store_id="S001", name="Brico Part-Dieu", city="Lyon", row_hash="x"),
         Store(store_id="S002", name="Brico Confluence", city="Lyon", row_hash="x"))  # fmt: skip
    token = make_token(1, page_key(app.engine))
    with serving(web, free_port()) as address:
        yield address, token
    app.engine.dispose()


@pytest.fixture
def phone():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        context = browser.new_context(**PHONE)
        yield context.new_page()
        context.close()
        browser.close()


def assert_accessible(page: Page) -> None:
    results = Axe().run(page, options=WCAG_21_AA)
    assert results.violations_count == 0, results.generate_report()


def test_a_customer_answers_from_a_phone_and_every_step_is_accessible(server, phone, tmp_path):
    base, token = server
    phone.goto(f"{base}/R/{token}")  # as the letter's QR code holds it
    expect(phone.locator("h1")).to_contain_text("Perceuse-visseuse X200")
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    assert_accessible(phone)
    phone.fill("#postal_code", "69002")
    phone.click("button[type=submit]")
    expect(phone.locator("#postal_code-error")).to_contain_text("pas celui que nous connaissons")
    assert_accessible(phone)
    phone.fill("#postal_code", "69001")
    phone.click("button[type=submit]")
    expect(phone.locator("legend").first).to_have_text("Avez-vous encore le produit ?")
    assert_accessible(phone)
    phone.check("#possession-has_it")
    phone.check("#remedy-refund")
    phone.select_option("#store_id", "S002")
    phone.screenshot(path=(DOCS if UPDATE_DOCS else tmp_path) / "self-service-phone.png",
                     full_page=True)  # fmt: skip
    phone.goto(f"{base}/r/{token}")  # the form afresh: every mistake, then each fixed
    phone.click("text=Envoyer ma réponse")
    expect(phone.locator("#possession-error")).to_contain_text("si vous avez encore le produit")
    assert_accessible(phone)
    phone.check("#possession-has_it")
    phone.check("#remedy-refund")
    phone.click("text=Envoyer ma réponse")
    expect(phone.locator("[role=alert]")).to_contain_text("Choisissez le magasin")
    assert_accessible(phone)
    phone.select_option("#store_id", "S002")
    phone.click("text=Envoyer ma réponse")
    expect(phone.locator("h1")).to_have_text("Merci, Élodie")
    assert_accessible(phone)
    phone.click("text=English")
    expect(phone.locator("html")).to_have_attribute("lang", "en")
    expect(phone.locator("main")).to_contain_text(
        "Bring the product to our store: Brico Confluence"
    )
    assert_accessible(phone)
    phone.screenshot(path=tmp_path / "self-service-thanks.png", full_page=True)


def test_a_forged_link_shows_the_unavailable_page_accessibly(server, phone):
    base, token = server
    forged = token[:-1] + ("B" if token.endswith("A") else "A")
    phone.goto(f"{base}/r/{forged}")
    expect(phone.locator("h1")).to_have_text("Cette page n'est pas disponible")
    assert_accessible(phone)


def test_the_page_fits_a_phone_screen_without_sideways_scrolling(server, phone):
    base, token = server
    phone.goto(f"{base}/r/{token}")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    phone.keyboard.press("Tab")  # the first stop is the skip link, shown when focused
    expect(phone.locator("a.skip")).to_be_focused()
    assert phone.locator("a.skip").bounding_box()["x"] >= 0
