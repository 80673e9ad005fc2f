"""`recall serve` as it runs in production (uvicorn, a real socket): a forwarded address is
believed only from a configured proxy, an oversized body is refused before it is sent, and a
connection left idle between two clicks is still open for the second."""

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest

from recall.domain.access import ADDRESS_POLICY
from tests.test_production import free_port, wait_for

RECALL_CLI = [sys.executable, "-c", "from recall.cli import main; main()"]
PASSWORD = "correct horse battery"


@pytest.fixture
def serve(tmp_path):
    """Start `recall serve` over a new SQLite database with one lead; stopped afterwards."""
    servers = []

    def start(**env: str) -> str:
        port = free_port()
        settings = dict(os.environ, RECALL_DATABASE_URL=f"sqlite:///{tmp_path / 'recall.db'}",
                        RECALL_DATA_DIR=str(tmp_path / "var"), PW=PASSWORD, **env)  # fmt: skip
        if not servers:
            subprocess.run([*RECALL_CLI, "users", "add", "lea", "--role", "lead",
                            "--password-env", "PW"], env=settings, check=True)  # fmt: skip
        servers.append(subprocess.Popen(
            [*RECALL_CLI, "serve", "--port", str(port)], env=settings,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: httpx.get(f"{url}/health", timeout=5).status_code == 200, 600)
        return url

    yield start
    for server in servers:
        server.terminate()
        server.wait(timeout=60)


def log_in(client: httpx.Client, username: str, password: str, forwarded: str) -> int:
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    answer = client.post(
        "/login", data={"username": username, "password": password, "csrf": token},
        headers={"X-Forwarded-For": forwarded},
    )  # fmt: skip
    return answer.status_code


def guesses_then_lea(url: str) -> int:
    """ADDRESS_POLICY.limit wrong passwords for as many names, each from a new forwarded
    address, then lea's right password from yet another: the status of her login."""
    with httpx.Client(base_url=url, timeout=60) as client:
        for n in range(ADDRESS_POLICY.limit):
            assert log_in(client, f"guess{n}", "wrong", f"203.0.113.{n}") == 401
        return log_in(client, "lea", PASSWORD, "198.51.100.7")


def test_a_forwarded_address_from_an_untrusted_client_does_not_dodge_the_lock(serve):
    assert guesses_then_lea(serve()) == 429


def test_a_trusted_proxys_forwarded_address_is_the_client_throttled(serve):
    assert guesses_then_lea(serve(RECALL_TRUSTED_PROXIES="127.0.0.1")) == 303


def test_a_body_announced_too_large_is_refused_before_it_is_sent(serve):
    url = serve()
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as raw:
        raw.sendall(
            b"POST /twilio/leg-status/1 HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 268435456\r\n\r\n"
        )  # 256 MiB announced, none of it sent
        answer = raw.recv(4096).decode()
    assert answer.startswith("HTTP/1.1 413")


def test_a_connection_idle_between_two_clicks_is_still_open_for_the_second(serve):
    # uvicorn's default closed it after 5 s: a client reusing it at that moment (httpx also
    # keeps idle connections 5 s; a proxy 60 s) had its request cut off, an error answer.
    url = serve()
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=60) as raw:
        assert health(raw).startswith(b"HTTP/1.1 200")
        time.sleep(6)  # an agent reading the case card
        assert health(raw).startswith(b"HTTP/1.1 200")


def health(raw: socket.socket) -> bytes:
    """GET /health on an open connection: the whole answer, or what came before it closed."""
    raw.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while b'"ok"}' not in answer:
        chunk = raw.recv(4096)
        if not chunk:
            break
        answer += chunk
    return answer
