"""Launching a recall from the console: the definition is checked in the request, and the
launch flow runs in a process of its own, whose log the lead can follow."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from recall.domain.definition import FieldError, InvalidDefinition, RecallDefinition
from recall.services.recalls import load_definition

MAX_DEFINITION_BYTES = 256 * 1024
_ENDED = "launch ended: exit code "
RECALL_CLI = [sys.executable, "-c", "from recall.cli import main; main()"]  # `recall`, this venv


@dataclass(frozen=True)
class Launch:
    name: str
    started: str
    state: str  # running, done, failed
    tail: str


def check_upload(*, uploads: Path, filename: str, content: bytes) -> tuple[RecallDefinition, Path]:
    """Keep the uploaded definition and validate it; InvalidDefinition lists every problem."""
    if len(content) > MAX_DEFINITION_BYTES:
        problem = FieldError("(file)", f"larger than {MAX_DEFINITION_BYTES // 1024} KiB")
        raise InvalidDefinition([problem], filename)
    uploads.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename or "recall.yaml").name)[:80]
    path = uploads / f"{stamp}-{safe}"
    path.write_bytes(content)
    definition, _ = load_definition(path)
    return definition, path


def start_launch(*, definition_path: Path, logs: Path) -> Path:
    """Run `recall launch` on the file in the background; its log file."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / (definition_path.stem + ".log")
    with log.open("ab") as out:
        subprocess.Popen(
            [sys.executable, "-m", "recall.services.launches", str(definition_path)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(os.environ), start_new_session=True,
        )  # fmt: skip
    return log


def recent_launches(*, logs: Path, count: int = 5) -> list[Launch]:
    """The latest launches started from the console, with the end of their logs."""
    if not logs.exists():
        return []
    found = sorted(logs.glob("*.log"), reverse=True)[:count]
    return [_launch(path) for path in found]


def _launch(path: Path) -> Launch:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    tail = "\n".join(line for line in lines[-4:])
    ended = next((line for line in reversed(lines) if line.startswith(_ENDED)), None)
    state = "running" if ended is None else "done" if ended == f"{_ENDED}0" else "failed"
    return Launch(path.stem.split("-", 1)[-1], path.stem.split("-", 1)[0], state, tail)


if __name__ == "__main__":  # the background launch: `recall launch`, then how it ended
    code = subprocess.call([*RECALL_CLI, "launch", sys.argv[1]])
    print(f"{_ENDED}{code}", flush=True)
