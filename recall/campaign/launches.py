"""Launching a recall from the console: the definition is checked in the request, and the
launch flow runs in a process of its own, whose log the lead can follow (and retry from)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from recall.campaign.definitions import MAX_DEFINITION_BYTES, load_definition
from recall.domain.definition import FieldError, InvalidDefinition, RecallDefinition
from recall.domain.errors import NotFound
from recall.filenames import keep_upload
from recall.settings import PROJECT_TEMPLATES

_STARTED = "launch started: "
_ENDED = "launch ended: exit code "
_ERROR = "error: "
RECALL_CLI = [sys.executable, "-c", "from recall.cli import main; main()"]  # `recall`, this venv


@dataclass(frozen=True)
class Launch:
    key: str  # its log's name: what a retry names
    name: str
    started: str
    state: str  # running, done, failed
    tail: str
    problem: str = ""  # the one line saying why it failed, and what to do

    @property
    def retryable(self) -> bool:
        return self.state == "failed"


class LaunchNotFound(NotFound):
    """No console launch has this name."""


def check_upload(
    *, uploads: Path, filename: str, content: bytes, templates_dir: Path = PROJECT_TEMPLATES
) -> tuple[RecallDefinition, Path]:
    """Keep the uploaded definition and validate it; InvalidDefinition lists every problem."""
    if len(content) > MAX_DEFINITION_BYTES:
        problem = FieldError("(file)", f"larger than {MAX_DEFINITION_BYTES // 1024} KiB")
        raise InvalidDefinition([problem], filename)
    path = keep_upload(uploads, filename, content, "recall.yaml")
    definition, _ = load_definition(path, templates_dir=templates_dir)
    return definition, path


def start_launch(*, definition_path: Path, logs: Path) -> Path:
    """Run `recall launch` on the file in the background; its log file."""
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / (definition_path.stem + ".log")
    with log.open("ab") as out:
        out.write(f"{_STARTED}{definition_path}\n".encode())
        out.flush()
        subprocess.Popen(
            [sys.executable, "-m", "recall.campaign.launches", str(definition_path)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=dict(os.environ), start_new_session=True,
        )  # fmt: skip
    return log


def retry_launch(*, logs: Path, key: str, templates_dir: Path = PROJECT_TEMPLATES) -> Path:
    """Launch again the definition of a failed console launch; its log (the same file)."""
    log = next((path for path in logs.glob("*.log") if path.stem == key), None)
    if log is None:
        raise LaunchNotFound(f"no launch {key!r}")
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    started = [line[len(_STARTED) :] for line in lines if line.startswith(_STARTED)]
    if not started or not Path(started[-1]).is_file():
        raise LaunchNotFound(f"the definition of launch {key!r} is no longer there")
    load_definition(started[-1], templates_dir=templates_dir)  # InvalidDefinition otherwise
    return start_launch(definition_path=Path(started[-1]), logs=logs)


def recent_launches(*, logs: Path, count: int = 5) -> list[Launch]:
    """The latest launches started from the console, with the end of their logs."""
    if not logs.exists():
        return []
    found = sorted(logs.glob("*.log"), reverse=True)[:count]
    return [_launch(path) for path in found]


def _launch(path: Path) -> Launch:
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith(_STARTED)]
    run = lines[starts[-1] :] if starts else lines  # the latest attempt
    tail = "\n".join(line for line in run[-4:])
    ended = next((line for line in reversed(run) if line.startswith(_ENDED)), None)
    state = "running" if ended is None else "done" if ended == f"{_ENDED}0" else "failed"
    problem = next((line for line in reversed(run) if line.startswith(_ERROR)), "")
    started, name = path.stem.split("-", 1) if "-" in path.stem else ("", path.stem)
    why = problem[len(_ERROR) :] if state == "failed" else ""
    return Launch(path.stem, name, started, state, tail, why)


if __name__ == "__main__":  # the background launch: `recall launch`, then how it ended
    code = subprocess.call([*RECALL_CLI, "launch", sys.argv[1]])
    print(f"{_ENDED}{code}", flush=True)
