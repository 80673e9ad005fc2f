"""The local flow engine as a user meets it: `recall` commands in their own processes, on a
busy machine, with an engine that starts once per data dir, is reused, and fails in one line."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from recall import flow_engine

pytestmark = pytest.mark.flow
RECALL = [sys.executable, "-m", "recall.cli"]
WAIT = 900  # seconds a command may take on a saturated machine


@pytest.fixture
def env(tmp_path) -> Iterator[dict[str, str]]:
    """A user's environment: a data dir of its own, no Prefect server configured."""
    values = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "RECALL_"))}
    values |= {
        "RECALL_DATA_DIR": str(tmp_path / "var"),
        "RECALL_LETTER_WORKERS": "1",
        "RECALL_NOW": "2026-11-23T10:00+01:00",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    yield values
    flow_engine.stop(config_of(values))


def config_of(env: dict[str, str]) -> flow_engine.EngineConfig:
    return flow_engine.EngineConfig.from_env(Path(env["RECALL_DATA_DIR"]), env)


def recall(env: dict[str, str], *args: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*RECALL, *map(str, args)], env=env, capture_output=True, text=True, timeout=WAIT
    )


def engine_pid(env: dict[str, str]) -> int:
    return json.loads(config_of(env).state.read_text())["pid"]


@contextlib.contextmanager
def saturated_cpus(workers: int = 6) -> Iterator[None]:
    """Load 6 on top of ours, as the machine the launch once failed on: Debian's stress-ng when
    present, else Python spinners."""
    if shutil.which("stress-ng"):
        command = ["stress-ng", "--cpu", str(workers), "--timeout", f"{WAIT}s"]
        burners = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    else:
        spin = [sys.executable, "-c", "while True: pass"]
        burners = [subprocess.Popen(spin) for _ in range(workers)]
    try:
        yield
    finally:
        for burner in burners:
            burner.terminate()
            burner.wait(timeout=30)


def demo_export(env: dict[str, str], tmp_path: Path) -> Path:
    data = tmp_path / "data"
    made = recall(env, "demo-data", "--customers", 400, "--out", data)
    assert made.returncode == 0, made.stderr
    return data


PROGRESS = ("starting the local flow engine", "still starting the flow engine")


def error_line(stderr: str) -> str:
    """The one error line, after nothing but the engine's progress lines: no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines and all(line.startswith(PROGRESS) for line in lines[:-1]), stderr
    assert lines[-1].startswith("error: "), stderr
    return lines[-1]


@pytest.mark.slow
def test_a_recall_launches_while_every_core_is_busy(env, tmp_path):
    data = demo_export(env, tmp_path)
    with saturated_cpus():
        imported = recall(env, "import", "--customers", data / "customers.csv",
                          "--purchases", data / "purchases.csv")  # fmt: skip
        assert imported.returncode == 0, imported.stderr
        assert recall(env, "agents", "import", data / "agents.csv").returncode == 0
        launched = recall(env, "launch", data / "recall.yaml")  # a fresh engine, started here
        assert launched.returncode == 0, launched.stderr[-3000:]
        assert "Traceback" not in launched.stderr
        first = engine_pid(env)
        reported = recall(env, "report", "R-2026-014")  # the next flow command reuses it
        assert reported.returncode == 0, reported.stderr[-3000:]
    status = json.loads(recall(env, "status", "R-2026-014", "--json").stdout)
    assert status["cases"] > 0 and status["call_list"]["without_agent"] == 0
    assert engine_pid(env) == first


def test_a_second_flow_command_reuses_the_engine_of_the_first(env):
    config = config_of(env)
    url = flow_engine.connect(config)
    pid = engine_pid(env)
    assert flow_engine.connect(config) == url and engine_pid(env) == pid
    assert flow_engine.status(config) == url


def test_a_stale_address_file_is_replaced_by_a_new_engine(env):
    config = config_of(env)
    config.home.mkdir(parents=True)
    stale = {"url": "http://127.0.0.1:9/api", "pid": 2**22 + 1, "token": "gone"}
    config.state.write_text(json.dumps(stale))
    url = flow_engine.connect(config)
    assert url != stale["url"] and flow_engine.status(config) == url


def test_an_engine_that_cannot_start_says_so_in_one_line(env, tmp_path):
    env["PREFECT_API_DATABASE_CONNECTION_URL"] = "postgresql+asyncpg://nobody@127.0.0.1:9/none"
    data = demo_export(env, tmp_path)
    launched = recall(env, "launch", data / "recall.yaml")
    assert launched.returncode == 3
    line = error_line(launched.stderr)
    assert line.startswith("error: the local flow engine stopped while starting")
    assert "Connect call failed" in line and "server.log" in line


def test_a_start_slower_than_its_limit_is_not_lost_for_the_next_command(env, tmp_path):
    data = demo_export(env, tmp_path)
    launched = recall(env | {"RECALL_FLOW_ENGINE_START_SECONDS": "0.5"}, "launch",
                      data / "recall.yaml")  # fmt: skip
    assert launched.returncode == 3
    line = error_line(launched.stderr)
    assert "did not answer within 0.5 s" in line and "run the command again" in line
    starting = engine_pid(env)
    assert recall(env, "engine", "start").returncode == 0
    assert engine_pid(env) == starting  # waited for, not started twice


def test_a_configured_prefect_server_that_does_not_answer_is_one_line(env):
    env |= {"PREFECT_API_URL": "http://127.0.0.1:9/api", "RECALL_FLOW_ENGINE_START_SECONDS": "2"}
    reported = recall(env, "report", "R-2026-014")
    assert reported.returncode == 3
    assert error_line(reported.stderr).startswith(
        "error: the Prefect server at PREFECT_API_URL=http://127.0.0.1:9/api does not answer"
    )


def test_an_unused_engine_stops_by_itself(env):
    config = flow_engine.EngineConfig(home=config_of(env).home, idle_minutes=0.05)
    flow_engine.connect(config)
    pid = engine_pid(env)
    deadline = time.monotonic() + 120
    while flow_engine._alive(pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not flow_engine._alive(pid)
    assert not config.state.exists()


def test_the_engine_commands_start_show_and_stop_it(env):
    assert "not running" in recall(env, "engine", "status").stdout
    assert recall(env, "engine", "start").returncode == 0
    assert "running at http://127.0.0.1:" in recall(env, "engine", "status").stdout
    assert recall(env, "engine", "stop").stdout.strip() == "stopped"
    assert "not running" in recall(env, "engine", "status").stdout
