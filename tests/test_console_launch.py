"""A launch from the console runs `recall launch` in the background for real: when the flow
engine can't be reached the lead reads why in one line, and retries once it is back."""

import time

import pytest
import yaml
from fastapi.testclient import TestClient

from recall.campaign import launches
from tests.console_support import build_console, csrf_of, log_in
from tests.support import sample_recall

pytestmark = pytest.mark.flow


@pytest.fixture
def console(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("RECALL_DATABASE_URL", database_url)  # the background launch's database
    monkeypatch.setenv("RECALL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("RECALL_LETTER_WORKERS", "1")
    app, web = build_console(database_url, tmp_path)
    yield web
    app.engine.dispose()


def ended(tmp_path, seconds: float = 600) -> launches.Launch:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        (latest,) = launches.recent_launches(logs=tmp_path / "launches")
        if latest.state != "running":
            return latest
        time.sleep(0.5)
    raise AssertionError("the background launch did not end")


def test_a_failed_launch_shows_why_and_is_retried(console, tmp_path, monkeypatch, flow_engine_url):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing answers there
    monkeypatch.setenv("RECALL_FLOW_ENGINE_START_SECONDS", "1")
    definition = yaml.safe_dump(sample_recall(id="R-2026-099"))
    with TestClient(console) as client:
        token = log_in(client, "lea")
        client.post(
            "/recalls", data={"csrf": token},
            files={"definition": ("recall.yaml", definition.encode(), "text/yaml")},
        )  # fmt: skip
        failed = ended(tmp_path)
        assert failed.state == "failed"
        assert failed.problem.startswith("the Prefect server at PREFECT_API_URL=")
        page = client.get("/recalls").text
        assert 'class="error launch-problem"' in page and "does not answer" in page
        assert f'action="/recalls/launches/{failed.key}/retry"' in page
        assert "Traceback" not in page

        monkeypatch.setenv("PREFECT_API_URL", flow_engine_url)  # the engine is back
        monkeypatch.delenv("RECALL_FLOW_ENGINE_START_SECONDS")
        answer = client.post(f"/recalls/launches/{failed.key}/retry", data={"csrf": csrf_of(page)})
        assert answer.status_code == 200 and "est relancé" in answer.text
        done = ended(tmp_path)
        assert done.state == "done", done.tail
        assert (done.key, done.problem) == (failed.key, "")
        recalls_page = client.get("/recalls").text
        assert "/recalls/R-2026-099" in recalls_page and "/retry" not in recalls_page


def test_retrying_a_launch_that_does_not_exist_relaunches_nothing(console, tmp_path):
    with TestClient(console) as client:
        token = log_in(client, "lea")
        answer = client.post("/recalls/launches/..%2Fsecrets/retry", data={"csrf": token})
        assert answer.status_code in (200, 404)
        assert not (tmp_path / "launches").exists()
