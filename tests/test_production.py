"""Production mode on this machine: a Prefect server on PostgreSQL, `recall schedule` serving
the flows on their schedules, and a scheduled flow run by it against the PostgreSQL database."""

import os
import socket
import subprocess
import sys
import time
import uuid

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from recall.calling.assignment import assign_call_list
from recall.db.engine import make_engine
from tests.conftest import POSTGRES_URL
from tests.support import agent, callers, empty_database, launch, seed

pytestmark = pytest.mark.flow
RECALL_CLI = [sys.executable, "-c", "from recall.cli import main; main()"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def prefect_on_postgres(postgres_server_url, tmp_path):
    """`prefect server start` with its own PostgreSQL database, dropped afterwards."""
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"recall_prefect_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    port = free_port()
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "prefect"),
               PREFECT_API_DATABASE_CONNECTION_URL=url.render_as_string(hide_password=False),
               PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")  # fmt: skip
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
         "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
    )  # fmt: skip
    api = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(lambda: httpx.get(f"{api}/health", timeout=2).status_code == 200, 90)
        yield api
    finally:
        server.terminate()
        server.wait(timeout=30)
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def wait_for(check, seconds: float):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            found = check()
            if found:
                return found
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"not ready within {seconds} s")


def test_the_served_flows_run_on_schedule_against_postgresql(
    prefect_on_postgres, postgres_server_url, tmp_path
):
    api = prefect_on_postgres
    engine = make_engine(postgres_server_url)
    seed(engine, *callers(3), agent("A1"))
    launch(engine)
    assign_call_list(engine=engine, recall_id="R-2026-014", home_language="fr")
    env = dict(os.environ, PREFECT_API_URL=api, RECALL_DATABASE_URL=postgres_server_url,
               RECALL_DATA_DIR=str(tmp_path / "var"),
               PREFECT_HOME=str(tmp_path / "client"))  # fmt: skip
    served = subprocess.Popen([*RECALL_CLI, "schedule"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.STDOUT)  # fmt: skip
    try:

        def deployments():
            found = httpx.post(f"{api}/deployments/filter", json={}, timeout=5).json()
            return {d["name"]: d for d in found} if len(found) == 2 else None

        found = wait_for(deployments, 90)
        crons = {name: [s["schedule"]["cron"] for s in d["schedules"]] for name, d in found.items()}
        assert crons == {"hourly": ["0 * * * *"], "daily": ["0 6 * * *"]}
        run = httpx.post(
            f"{api}/deployments/{found['daily']['id']}/create_flow_run", json={}, timeout=5
        ).json()

        def finished():
            state = httpx.get(f"{api}/flow_runs/{run['id']}", timeout=5).json()["state"]
            return state if state["type"] in ("COMPLETED", "FAILED", "CRASHED") else None

        assert wait_for(finished, 120)["type"] == "COMPLETED"
    finally:
        served.terminate()
        served.wait(timeout=30)
        engine.dispose()
        empty_database(postgres_server_url)  # the session's database is shared: leave it empty
    reports = tmp_path / "var" / "reports" / "R-2026-014"
    assert len(list(reports.glob("progress-*.pdf"))) == 1  # written by the scheduled run
