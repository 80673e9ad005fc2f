"""What a request may make the console read: bodies and forms are bounded before anything is
read or a webhook's signature checked; every answer carries a strict content policy."""

import dataclasses
import re

from fastapi.testclient import TestClient

from recall.web.app import create_app
from recall.web.limits import MAX_BODY_BYTES, MAX_FORM_FIELDS
from tests.console_support import log_in

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_an_oversized_webhook_body_is_refused_before_it_is_read(console):
    _, web = console
    with TestClient(web) as client:
        answer = client.post(
            "/twilio/leg-status/1", content=b"x" * (MAX_BODY_BYTES + 1), headers=FORM
        )
    assert answer.status_code == 413 and "at most 1024 KiB" in answer.text


def test_a_body_streamed_in_chunks_is_cut_off_once_over_the_limit(console):
    _, web = console

    def chunks():
        for _ in range(64):  # 4 MiB in all, without a Content-Length
            yield b"x" * (64 * 1024)

    with TestClient(web) as client:
        answer = client.post("/twilio/leg-status/1", content=chunks(), headers=FORM)
    assert answer.status_code == 413 and "at most 1024 KiB" in answer.text


def test_a_form_of_too_many_fields_is_refused(console):
    _, web = console
    with TestClient(web) as client:
        fields = "&".join(f"f{n}=" for n in range(MAX_FORM_FIELDS + 1))
        answer = client.post("/login", content=fields.encode(), headers=FORM)
        assert answer.status_code == 413 and "fields" in answer.text
        log_in(client, "lea")  # a form within the limits still goes through
        assert client.get("/recalls").status_code == 200


def test_pages_forbid_scripts_and_framing(console):
    _, web = console
    with TestClient(web) as client:
        page = client.get("/login")
    policy = page.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'self';" in policy  # our file only
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    scripts = re.findall(r"<script[^>]*>", page.text)
    assert scripts == ['<script src="/static/refresh.js" defer>']  # no inline script
    assert "strict-transport-security" not in page.headers  # plain http: no HSTS promise


def test_over_https_the_console_asks_browsers_to_stay_on_https(console):
    app, _ = console
    settings = dataclasses.replace(app.settings, secure_cookies=True)
    web = create_app(dataclasses.replace(app, settings=settings))
    with TestClient(web, base_url="https://testserver") as client:
        page = client.get("/login")
    assert page.headers["strict-transport-security"].startswith("max-age=31536000")
