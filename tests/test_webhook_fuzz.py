"""Twilio's webhooks fuzzed from their OpenAPI description, every request signed with the
account's token so that it reaches the handler: never a 500."""

import dataclasses

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from recall.bootstrap import App
from recall.calling.claiming import next_case
from recall.calling.dialing import click_to_call
from recall.db.models import CallAttempt, Message
from recall.web.app import create_app
from recall.web.twilio_hooks import webhook_schema
from tests.console_support import MONDAY_10H_PARIS, build_console, module_database

schema = schemathesis.openapi.from_dict(webhook_schema())
BASE = "http://localhost"
TOKEN = "fuzz-auth-token"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def hooks(request, tmp_path_factory):
    """The webhooks of a console with calls and texts under way; the client to reach them."""
    data_dir = tmp_path_factory.mktemp("hooks")
    with module_database(request, data_dir) as url:
        built, _ = build_console(url, data_dir)
        app = App(dataclasses.replace(built.settings, twilio_auth_token=TOKEN, public_url=BASE),
                  built.engine)  # fmt: skip
        offline = app.telephony  # no account: calls go nowhere, their rows are real
        for agent_id in ("A1", "A2"):
            card = next_case(engine=app.engine, agent_id=agent_id, clock=lambda: MONDAY_10H_PARIS)
            click_to_call(
                engine=app.engine, telephony=offline, settings=app.dial_settings,
                agent_id=agent_id, case_id=card.case_id, text_first=True,
                clock=lambda: MONDAY_10H_PARIS,
            )  # fmt: skip
        with Session(app.engine) as session:
            assert session.scalar(select(func.count(CallAttempt.id))) == 2
            assert session.scalar(select(func.count(Message.id))) == 2
        yield asgi.get_client(create_app(app))
        app.engine.dispose()


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_signed_webhook_makes_the_server_fail(case, hooks):
    form = {str(k): str(v) for k, v in case.body.items()} if isinstance(case.body, dict) else {}
    case.body = form
    signature = RequestValidator(TOKEN).compute_signature(BASE + case.formatted_path, form)
    response = case.call(base_url=BASE, session=hooks, headers={"X-Twilio-Signature": signature})
    assert response.status_code < 500, (case.formatted_path, form, response.text)
    assert response.status_code != 403, "the signature should verify: the handler was not reached"
