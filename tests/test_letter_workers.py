"""Rendering workers end with their launch: a launch killed with kill -9 leaves no worker
behind writing PDFs that nothing records."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# A launch's rendering pool, one worker on a long batch.
LAUNCH = """
import sys, time
from recall.notices.letters import worker_pool
from tests.test_letter_workers import long_batch

if __name__ == "__main__":
    worker_pool(1).submit(long_batch, sys.argv[1])
    time.sleep(600)
"""


def long_batch(folder: str) -> None:
    """A batch that takes its time, then writes its file."""
    Path(folder, "worker.pid").write_text(str(os.getpid()))
    time.sleep(30)
    Path(folder, "letters-0001.pdf").write_text("drawn after the launch died")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    return state != "Z"  # a zombie has ended, only nobody has reaped it


def test_a_worker_ends_when_its_launch_is_killed(tmp_path):
    script = tmp_path / "launch.py"
    script.write_text(LAUNCH)
    launch = subprocess.Popen([sys.executable, str(script), str(tmp_path)], cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))  # fmt: skip
    deadline = time.monotonic() + 600  # a busy machine may take long to start the worker
    while not (tmp_path / "worker.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    worker = int((tmp_path / "worker.pid").read_text())
    launch.send_signal(signal.SIGKILL)
    launch.wait()
    deadline = time.monotonic() + 20
    while alive(worker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(worker)
    assert not (tmp_path / "letters-0001.pdf").exists()
