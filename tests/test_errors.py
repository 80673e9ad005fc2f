"""Each kind of error is said once per entry point; anything else is a bug, never a 404."""

import pytest
import typer
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from recall.bootstrap import build_app
from recall.cli import REFUSED, UNAVAILABLE, _Commands
from recall.domain.errors import NotFound, RecallNotFound, Refused, Unavailable
from recall.settings import Settings
from recall.web.app import create_app

RAISED = {
    "not-found": RecallNotFound("R-0"),
    "refused": Refused("the callback time is not in the future"),
    "unavailable": Unavailable("the print house's folder is not mounted"),
    "bug": KeyError("status"),
    "lookup": LookupError("a bare lookup error is a bug too"),
}


@pytest.fixture
def client(tmp_path):
    settings = Settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'recall.db'}")
    web = create_app(build_app(settings))
    for name, exc in RAISED.items():
        web.add_api_route(f"/api/{name}", _raising(exc))
    with TestClient(web, raise_server_exceptions=False) as client:
        yield client


def _raising(exc: Exception):
    def boom() -> None:
        raise exc

    return boom


@pytest.mark.parametrize(
    ("name", "status"),
    [("not-found", 404), ("refused", 409), ("unavailable", 503), ("bug", 500), ("lookup", 500)],
)
def test_the_console_answers_each_kind_with_its_status(client, name, status):
    assert client.get(f"/api/{name}").status_code == status


def test_a_refusal_says_why_and_a_not_found_says_nothing_of_what_exists(client):
    assert client.get("/api/refused").json() == {"detail": "the callback time is not in the future"}
    assert "R-0" not in client.get("/api/not-found").text


def test_a_bug_reaches_the_server_whole_for_its_traceback_in_the_log(client):
    """No handler swallows it: the ASGI server (uvicorn) answers 500 and logs the traceback."""
    with TestClient(client.app) as raising, pytest.raises(KeyError, match="status"):
        raising.get("/api/bug")


def _command_raising(exc: Exception) -> typer.Typer:
    app = typer.Typer(cls=_Commands)

    @app.command()
    def first() -> None:
        raise exc

    @app.command()
    def second() -> None:  # two commands: typer keeps the group (and its invoke)
        raise exc

    return app


@pytest.mark.parametrize(
    ("exc", "code"),
    [(NotFound("no agent 'A99'"), REFUSED), (Refused("the file has no header"), REFUSED),
     (Unavailable("the flow engine did not start"), UNAVAILABLE)],
)  # fmt: skip
def test_the_command_line_says_each_kind_in_one_line_and_an_exit_code(exc, code):
    result = CliRunner().invoke(_command_raising(exc), ["first"])
    assert result.exit_code == code
    assert result.output.strip().splitlines() == [f"error: {exc}"]


def test_a_bug_in_a_command_is_not_dressed_as_a_refusal():
    result = CliRunner().invoke(_command_raising(KeyError("status")), ["first"])
    assert isinstance(result.exception, KeyError)
