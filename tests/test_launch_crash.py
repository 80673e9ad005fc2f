"""A launch killed with kill -9 at any step, then launched again: no case twice or missing, no
letter twice or missing, every call case with exactly one agent, every reference unchanged."""

from __future__ import annotations

import collections
import csv
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from recall.db.engine import make_engine
from recall.db.models import AddressReview, Agent, Case, CaseEvent, Letter, LetterBatch, QueueEntry
from recall.domain.calling import WORKABLE
from tests.support import made_once

pytestmark = [pytest.mark.flow, pytest.mark.slow]
RECALL = [sys.executable, "-m", "recall.cli"]
# Where the launch is killed, in the order a launch reaches them: before any case, between
# two batches of cases, once the call list is handed out, while letters are being drawn.
KILLED_AT = ["recall R-2026-014 registered", "cases batch 2/", "call list ready",
             "letter batches: 3/"]  # fmt: skip


def command_env(tmp_path: Path, database_url: str, name: str) -> dict[str, str]:
    return dict(
        os.environ, RECALL_DATABASE_URL=database_url, RECALL_DATA_DIR=str(tmp_path / name),
        RECALL_CASE_BATCH_SIZE="50", RECALL_LETTER_BATCH_SIZE="20", RECALL_LETTER_WORKERS="2",
        RECALL_NOW="2026-11-23T10:00+01:00",
    )  # fmt: skip


def recall(env: dict[str, str], *args: object) -> str:
    done = subprocess.run([*RECALL, *map(str, args)], env=env, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done.stdout


def killed_when(env: dict[str, str], definition: Path, marker: str) -> None:
    """Start a launch and kill -9 it (and its letter workers) the moment it logs `marker`."""
    launch = subprocess.Popen(
        [*RECALL, "launch", str(definition)], env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    assert launch.stdout is not None
    seen = []
    for line in launch.stdout:
        seen.append(line)
        if marker in line:
            os.killpg(launch.pid, signal.SIGKILL)
            break
    launch.wait(timeout=60)
    assert launch.returncode == -signal.SIGKILL, f"never reached {marker!r}:\n{''.join(seen)}"


def prepare(env: dict[str, str], data: Path) -> None:
    recall(env, "import", "--customers", data / "customers.csv",
           "--purchases", data / "purchases.csv", "--stores", data / "stores.csv")  # fmt: skip
    recall(env, "agents", "import", data / "agents.csv")


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    """The demo export, made once for the run (both databases' tests read it)."""
    return made_once(tmp_path_factory, "launch-crash-export", demo_export)


def demo_export(out: Path) -> None:
    subprocess.run([*RECALL, "demo-data", "--customers", "6000", "--out", str(out)], check=True,
                   capture_output=True, timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def references(data, tmp_path_factory, flow_engine_url) -> dict[str, str]:
    """Each customer's case reference after one launch that nothing interrupted."""
    home = made_once(tmp_path_factory, "launch-crash-reference", lambda h: reference(h, data))
    return json.loads((home / "references.json").read_text())


def reference(home: Path, data: Path) -> None:
    env = command_env(home, f"sqlite:///{home / 'reference.db'}", "var")
    prepare(env, data)
    recall(env, "launch", data / "recall.yaml")
    engine = make_engine(env["RECALL_DATABASE_URL"])
    with Session(engine) as session:
        refs = dict(session.execute(select(Case.customer_id, Case.case_ref)).tuples().all())
    engine.dispose()
    (home / "references.json").write_text(json.dumps(refs))


def test_a_launch_killed_at_every_step_ends_as_one_uninterrupted(
    data, references, database_url, tmp_path, flow_engine_url
):
    env = command_env(tmp_path, database_url, "var")
    prepare(env, data)
    for marker in KILLED_AT:
        killed_when(env, data / "recall.yaml", marker)
    recall(env, "launch", data / "recall.yaml")

    engine = make_engine(database_url)
    with Session(engine) as session:
        refs = dict(session.execute(select(Case.customer_id, Case.case_ref)).tuples().all())
        assert refs == references  # every case once, none missing, references unchanged
        identified = session.execute(
            select(CaseEvent.case_id, func.count()).where(CaseEvent.old_status.is_(None))
            .group_by(CaseEvent.case_id)
        ).tuples().all()  # fmt: skip
        assert len(identified) == len(refs) and {n for _, n in identified} == {1}
        set_aside = session.scalars(select(CaseEvent.case_id).where(
            CaseEvent.note.like("address can't be printed%"))).all()  # fmt: skip
        reviewed = session.scalars(select(AddressReview.case_id)).all()
        assert sorted(set_aside) == sorted(reviewed) and reviewed  # each once, across the kills
        assert_one_letter_each(session, Path(env["RECALL_DATA_DIR"]) / "letters" / "R-2026-014")
        assert_one_active_agent_each(session)
    engine.dispose()


def assert_one_letter_each(session: Session, out: Path) -> None:
    to_write = set(session.scalars(select(Case.case_ref).where(Case.letter)))
    letters = session.execute(select(Letter.case_id, Letter.page)).all()
    assert len(letters) == len(to_write) and all(page is not None for _, page in letters)
    assert session.scalar(select(func.count()).where(LetterBatch.rendered_at.is_(None))) == 0
    with (out / "manifest.csv").open(encoding="utf-8") as manifest:
        listed = collections.Counter(row["case_ref"] for row in csv.DictReader(manifest))
    assert set(listed) == to_write and set(listed.values()) == {1}
    files = session.scalars(select(LetterBatch.file)).all()
    assert sum(len(PdfReader(out / name).pages) for name in files) == len(to_write)


def assert_one_active_agent_each(session: Session) -> None:
    to_call = session.scalars(
        select(Case.id).where(Case.call, Case.status.in_([s.value for s in WORKABLE]))
    ).all()
    holders = session.execute(
        select(QueueEntry.case_id, Agent.active).join(Agent, Agent.agent_id == QueueEntry.agent_id)
    ).all()
    held = collections.Counter(case_id for case_id, active in holders if active)
    assert to_call and all(held[case_id] == 1 for case_id in to_call)
