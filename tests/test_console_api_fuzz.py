"""The console's JSON endpoints, fuzzed from their OpenAPI description: never a 500."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.python import asgi

from recall.web.app import openapi_schema
from tests.console_support import PASSWORD, build_console, csrf_of, module_database

schema = schemathesis.openapi.from_dict(openapi_schema())
BASE = "http://localhost"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def session(request, tmp_path_factory):
    """A console logged in as an agent (and as reporting): their cookies and CSRF tokens."""
    data_dir = tmp_path_factory.mktemp("fuzz")
    with module_database(request, data_dir) as url:
        app, web = build_console(url, data_dir, customers=30)
        logged = {}
        for username in ("alice", "rita"):
            client = asgi.get_client(web)  # the requests session schemathesis sends through
            token = csrf_of(client.get(f"{BASE}/login").text)
            form = {"username": username, "password": PASSWORD, "csrf": token}
            assert client.post(f"{BASE}/login", data=form).status_code == 200
            logged[username] = (client, client.get(f"{BASE}/api/me").json()["csrf"])
        yield web, logged
        app.engine.dispose()


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_request_to_the_api_makes_the_server_fail(case, session):
    _, logged = session
    for client, token in logged.values():  # an agent, then reporting (403 on the other side)
        response = case.call(base_url=BASE, session=client, headers={"X-CSRF-Token": token})
        assert response.status_code < 500, (case.method, case.formatted_path, response.text)
