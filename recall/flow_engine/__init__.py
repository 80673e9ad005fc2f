"""The flow engine the `recall` commands run their Prefect flows on.

With PREFECT_API_URL set (production), that Prefect server. Without it, one local Prefect
server per data dir, started by the first flow command and reused by the next ones (its
address in `$RECALL_DATA_DIR/prefect/server.json`); it stops by itself after an hour unused.
Its start is waited for by the clock, as long as `RECALL_FLOW_ENGINE_START_SECONDS` (600 by
default): a busy machine makes it slow, never a failure (docs/decisions.md).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from recall.domain.errors import Unavailable

TOKEN_HEADER = "x-recall-flow-engine"  # set by the engine on every response
START_SECONDS = 600.0
IDLE_MINUTES = 60.0
REMOTE_SECONDS = 30.0  # how long a configured Prefect server may take to answer
_POLL_SECONDS = 0.25
_SAY_EVERY_SECONDS = 15.0
_STARTS = 3  # a port taken between choosing it and binding it: try another

Say = Callable[[str], None]


class FlowEngineUnavailable(Unavailable):
    """The flow engine can't be reached or started; the message says what to do."""


@dataclass(frozen=True)
class EngineConfig:
    home: Path  # PREFECT_HOME: the local server's database, address and log
    api_url: str = ""  # PREFECT_API_URL: a Prefect server of the user's own
    start_seconds: float = START_SECONDS
    idle_minutes: float = IDLE_MINUTES

    @classmethod
    def from_env(cls, data_dir: Path, env: dict[str, str] | None = None) -> EngineConfig:
        env = dict(os.environ if env is None else env)
        return cls(
            home=Path(env.get("PREFECT_HOME") or data_dir / "prefect"),
            api_url=env.get("PREFECT_API_URL", ""),
            start_seconds=_seconds(env, "RECALL_FLOW_ENGINE_START_SECONDS", START_SECONDS),
            idle_minutes=_seconds(env, "RECALL_FLOW_ENGINE_IDLE_MINUTES", IDLE_MINUTES),
        )

    @property
    def state(self) -> Path:
        return self.home / "server.json"

    @property
    def log(self) -> Path:
        return self.home / "server.log"


def connect(config: EngineConfig, say: Say = lambda _line: None) -> str:
    """The API address of a flow engine that answers: the configured one, else the local one
    (started if needed). Raise FlowEngineUnavailable with one line of advice otherwise."""
    if config.api_url:
        return _remote(config)
    config.home.mkdir(parents=True, exist_ok=True)
    with _locked(config.home / "server.lock"):
        state = _read(config.state)
        if state and _answers(state):
            return state["url"]
        if state and _alive(state["pid"]):  # still starting, for an earlier command
            pid = state["pid"]
            return _wait(config, state, say, lambda: _alive(pid))
        for _attempt in range(_STARTS):
            started, process = _start(config)
            try:
                return _wait(config, started, say, _process_running(process))
            except _PortTaken:
                continue
        raise FlowEngineUnavailable(
            f"the local flow engine found no free port to listen on; see {config.log}"
        )


def status(config: EngineConfig) -> str | None:
    """The local engine's address when it is running and answering, else None."""
    state = _read(config.state)
    return state["url"] if state and _answers(state) else None


def stop(config: EngineConfig, wait_seconds: float = 30.0) -> bool:
    """Stop the local engine of this data dir; False when none was running."""
    state = _read(config.state)
    if not state or not _alive(state["pid"]):
        config.state.unlink(missing_ok=True)
        return False
    os.kill(state["pid"], 15)
    deadline = time.monotonic() + wait_seconds
    while _alive(state["pid"]) and time.monotonic() < deadline:
        time.sleep(_POLL_SECONDS)
    if _alive(state["pid"]):
        os.kill(state["pid"], 9)
    config.state.unlink(missing_ok=True)
    return True


@contextlib.contextmanager
def flows_on(url: str) -> Iterator[None]:
    """Prefect's client pointed at `url` for the flows run inside, even if Prefect was
    imported before (its settings are read once, at import); child processes inherit it."""
    before = os.environ.get("PREFECT_API_URL")
    os.environ["PREFECT_API_URL"] = url
    from prefect.settings import PREFECT_API_URL, temporary_settings

    try:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            try:
                yield
            finally:
                _drain()
    finally:
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before


def _drain() -> None:
    """Send the logs and events still queued, while the engine is known to be there."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    EventsWorker.drain_all(timeout=10)


class _PortTaken(Exception):
    pass


def _remote(config: EngineConfig) -> str:
    url = config.api_url.rstrip("/")
    deadline = time.monotonic() + min(REMOTE_SECONDS, config.start_seconds)
    while not _health(url):
        if time.monotonic() > deadline:
            raise FlowEngineUnavailable(
                f"the Prefect server at PREFECT_API_URL={url} does not answer: start it, "
                "or unset PREFECT_API_URL to run flows on the local engine"
            )
        time.sleep(1.0)
    return url


def _start(config: EngineConfig) -> tuple[dict, subprocess.Popen[bytes]]:
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(
        os.environ,
        PREFECT_HOME=str(config.home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_UI_ENABLED="false",
        PREFECT_API_URL="",
    )
    command = [
        sys.executable, "-m", "recall.flow_engine.server", "--port", str(port),
        "--token", token, "--idle-minutes", str(config.idle_minutes), "--state", str(config.state),
    ]  # fmt: skip
    with config.log.open("ab") as log:
        log.write(f"\n--- starting on port {port} at {time.strftime('%F %T')}\n".encode())
        log.flush()
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )  # fmt: skip
    state = {"url": f"http://127.0.0.1:{port}/api", "pid": process.pid, "token": token}
    _write(config.state, state)
    return state, process


def _process_running(process: subprocess.Popen[bytes]) -> Callable[[], bool]:
    return lambda: process.poll() is None


def _wait(config: EngineConfig, state: dict, say: Say, running: Callable[[], bool]) -> str:
    """Wait by the clock for the engine to answer; it may take long on a busy machine."""
    started = time.monotonic()
    said = started
    say("starting the local flow engine (a Prefect server, reused by the next commands) ...")
    while time.monotonic() - started < config.start_seconds:
        if _answers(state):
            return state["url"]
        if not running():
            last = _last_line(config.log)
            if "address already in use" in last.lower():
                raise _PortTaken
            config.state.unlink(missing_ok=True)
            raise FlowEngineUnavailable(
                f"the local flow engine stopped while starting ({last or 'no message'}); "
                f"see {config.log}"
            )
        if time.monotonic() - said >= _SAY_EVERY_SECONDS:
            said = time.monotonic()
            say(f"still starting the flow engine ({said - started:.0f} s; the machine is busy)")
        time.sleep(_POLL_SECONDS)
    raise FlowEngineUnavailable(
        f"the local flow engine did not answer within {config.start_seconds:g} s (the machine "
        "is very busy); it goes on starting: run the command again in a minute, or set "
        f"RECALL_FLOW_ENGINE_START_SECONDS higher. Its log: {config.log}"
    )


def _answers(state: dict) -> bool:
    return _health(state["url"], state["token"])


def _health(url: str, token: str | None = None) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=5) as response:
            ours = token is None or response.headers.get(TOKEN_HEADER) == token
            return response.status == 200 and ours
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _alive(pid: int) -> bool:
    """True while `pid` is a running engine process: not exited, not another program."""
    proc = Path(f"/proc/{pid}")
    if Path("/proc/self").exists():
        try:
            command, stat = (proc / "cmdline").read_bytes(), (proc / "stat").read_text()
        except OSError:
            return False
        running = stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has exited
        return running and b"recall.flow_engine.server" in command
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One command at a time checks and starts the engine; the others wait, then reuse it."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read(path: Path) -> dict | None:
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not {"url", "pid", "token"} <= set(state):
        return None
    return state


def _write(path: Path, state: dict) -> None:
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(state))
    os.replace(partial, path)


_ERROR_LINE = re.compile(r"^[\w.]*(Error|Exception)\b.*:")


def _last_line(path: Path) -> str:
    """What the log says went wrong: its last exception line, else its last line."""
    with contextlib.suppress(OSError):
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines()]
        lines = [line for line in lines if line]
        found = next((line for line in reversed(lines) if _ERROR_LINE.match(line)), None)
        return (found or (lines[-1] if lines else ""))[:300]
    return ""


def _seconds(env: dict[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, got {text!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be above 0, got {text!r}")
    return value
