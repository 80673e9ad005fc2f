"""The quality lead's pages and the reporting team's completion figures."""

import csv
import io
import re

import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from recall.campaign import launches
from recall.db.models import Agent, Case, QueueEntry
from tests.console_support import RECALL, log_in
from tests.support import sample_recall


def agents_of_cases(engine) -> dict[int, str]:
    with Session(engine) as session:
        query = select(Case.id, QueueEntry.agent_id).join(QueueEntry, QueueEntry.case_id == Case.id)
        return dict(session.execute(query.where(Case.call)).tuples().all())


def figure(page: str, stage: str) -> int:
    """A figure of the report, as the page writes it in any language ("1 234", "1,234")."""
    return int(re.sub(r"\D", "", re.search(rf'id="{stage}">([^<]+)<', page).group(1)))


def test_an_invalid_definition_shows_each_problem_and_launches_nothing(console, tmp_path):
    _app, web = console
    bad = yaml.safe_dump(sample_recall(id="R-BAD", hazard="extreme", sold_to="2025-01-01"))
    with TestClient(web) as client:
        token = log_in(client, "lea")
        answer = client.post(
            "/recalls", data={"csrf": token},
            files={"definition": ("bad.yaml", bad.encode(), "text/yaml")},
        )  # fmt: skip
        assert answer.status_code == 400
        assert "hazard" in answer.text and "extreme" in answer.text
        assert "sold_to" in answer.text
        assert "R-BAD" not in client.get("/recalls").text
    assert not (tmp_path / "launches").exists()


def test_a_valid_definition_is_launched_in_the_background(console, tmp_path, monkeypatch):
    _app, web = console
    started: list = []
    monkeypatch.setattr(
        launches, "start_launch", lambda **kw: started.append(kw["definition_path"])
    )
    good = yaml.safe_dump(sample_recall(id="R-2026-099"))
    with TestClient(web) as client:
        token = log_in(client, "lea")
        answer = client.post(
            "/recalls", data={"csrf": token},
            files={"definition": ("../../etc/recall.yaml", good.encode(), "text/yaml")},
        )  # fmt: skip
        assert answer.status_code == 200 and "R-2026-099 est valide" in answer.text
    (path,) = started
    assert path.parent == tmp_path / "uploads" and path.name.endswith("-recall.yaml")
    assert yaml.safe_load(path.read_text())["id"] == "R-2026-099"


def test_the_background_launch_reports_how_it_ended(tmp_path):
    log = tmp_path / "launches" / "20261124T100000-recall.log"
    log.parent.mkdir()
    log.write_text("starting\n")
    assert launches.recent_launches(logs=log.parent)[0].state == "running"
    log.write_text("starting\nlaunch ended: exit code 1\n")
    assert launches.recent_launches(logs=log.parent)[0].state == "failed"
    log.write_text("starting\nlaunch ended: exit code 0\n")
    assert launches.recent_launches(logs=log.parent)[0].state == "done"


def test_a_lead_deactivates_an_agent_and_their_cases_go_to_the_others(console):
    app, web = console
    before = agents_of_cases(app.engine)
    with TestClient(web) as client:
        token = log_in(client, "lea")
        page = client.get(f"/recalls/{RECALL}")
        assert page.status_code == 200 and "A2" in page.text
        done = client.post(f"/recalls/{RECALL}/agents/A2/deactivate", data={"csrf": token})
        assert done.status_code == 200
        assert "Agent A2 (A2) désactivé ; 2 dossiers confiés" in done.text
    after = agents_of_cases(app.engine)
    assert "A2" not in after.values()
    assert all(after[c] == a for c, a in before.items() if a != "A2")  # nobody else moved
    with Session(app.engine) as session:
        assert session.get(Agent, "A2").active is False


def test_deactivating_an_agent_under_an_unknown_recall_changes_nothing(console):
    app, web = console
    with TestClient(web) as client:
        token = log_in(client, "lea")
        answer = client.post("/recalls/R-NONE/agents/A2/deactivate", data={"csrf": token})
        assert answer.status_code == 404
    with Session(app.engine) as session:
        assert session.get(Agent, "A2").active is True


def test_a_lead_reassigns_one_case(console):
    app, web = console
    case_id, _ = next((c, a) for c, a in agents_of_cases(app.engine).items() if a == "A1")
    with Session(app.engine) as session:
        ref = session.get(Case, case_id).case_ref
    with TestClient(web) as client:
        token = log_in(client, "lea")
        done = client.post(
            f"/recalls/{RECALL}/reassign", data={"csrf": token, "case_ref": ref, "agent_id": "A2"}
        )
        assert f"{ref} passé de Agent A1 (A1) à Agent A2 (A2)" in done.text
        refused = client.post(
            f"/recalls/{RECALL}/reassign", data={"csrf": token, "case_ref": ref, "agent_id": "ZZ"}
        )
        assert "Non réattribué : no active agent" in refused.text
    assert agents_of_cases(app.engine)[case_id] == "A2"


def test_the_completion_figures_move_as_agents_work(console):
    _, web = console
    with TestClient(web) as reporting, TestClient(web) as agent:
        log_in(reporting, "rita")
        before = reporting.get(f"/reports/{RECALL}").text
        assert figure(before, "identified") == 6 and figure(before, "resolved") == 0
        assert "<svg" in before and "UTC" not in before
        assert "Identifiés" in before and "Agent A1 <small" in before  # in French, by name
        assert re.search(r"6 dossiers restants, fin prévue vers\s*<strong>23 nov. 2026 ", before)
        token = log_in(agent, "alice")
        opened = agent.post("/my/next", data={"csrf": token}, follow_redirects=False)
        target = opened.headers["location"]
        agent.post(
            f"{target}/record", data={"csrf": token, "disposition": "reached", "outcome": "repair"}
        )
        after = reporting.get(f"/reports/{RECALL}").text
        assert figure(after, "contacted") == 1 and figure(after, "resolved") == 1
        rows = list(csv.DictReader(io.StringIO(reporting.get(f"/reports/{RECALL}.csv").text)))
        total = next(r for r in rows if r["section"] == "total")
        assert (total["identified"], total["resolved"]) == ("6", "1")
        alice = next(r for r in rows if r["section"] == "agent" and r["key"] == "A1")
        assert (alice["calls"], alice["resolved"]) == ("1", "1")
        assert next(r for r in rows if r["section"] == "outcome")["key"] == "repair"
        api = reporting.get(f"/api/recalls/{RECALL}/completion").json()
        assert api["total"]["resolved"] == 1
