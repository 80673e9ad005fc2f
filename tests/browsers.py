"""Debian's headless Chromium for the browser tests, driven by Playwright (never a downloaded
browser): required when RECALL_REQUIRE_BROWSER=1, else the module importing this is skipped."""

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[1] / "docs"
UPDATE_DOCS = os.environ.get("RECALL_UPDATE_DOCS") == "1"  # make screenshots

if not Path(CHROMIUM).exists():
    if os.environ.get("RECALL_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests are required but {CHROMIUM} is missing")
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402


@pytest.fixture
def browser():
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()
