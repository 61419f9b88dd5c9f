"""Broken endpoints: closed ports, servers that hang or trickle, and 200 answers that are not the API.

Each server here is a real socket in a thread of the test process; the CLI talks to it over
``--endpoint``, in-process through CliRunner or as a real subprocess. Every failure must be a
one-line ``Error:`` with exit 1 and never a traceback. Upper bounds on time are asserted only
where the issue makes them a contract, with a wide margin.
"""

from __future__ import annotations

import json
import os
import socket
import socketserver
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from e2e_harness import load_fixture, mailctl_command

from mailctl.cli.main import cli

KEY = "am_broken_endpoint_test_key_0123456789"
TRACEBACK = "Traceback (most recent call last)"


def run_cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env={"AGENTMAIL_API_KEY": KEY, "AGENTMAIL_BASE_URL": None})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"mailctl {' '.join(args)} raised {result.exception!r}") from result.exception
    output = result.stdout + result.stderr
    assert TRACEBACK not in output
    return result.exit_code, result.stderr


def run_subprocess(*args: str, cwd: Path, limit: float = 60) -> tuple[int, str]:
    env = {**os.environ, "AGENTMAIL_API_KEY": KEY}
    env.pop("AGENTMAIL_BASE_URL", None)
    done = subprocess.run(
        [*mailctl_command(), *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=limit,
        check=False,
    )
    assert TRACEBACK not in done.stdout + done.stderr
    return done.returncode, done.stderr


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mailctl.yaml"
    path.write_text(yaml.safe_dump(load_fixture("tenants.yaml"), sort_keys=False))
    return path


# -- servers -----------------------------------------------------------------------------------


@contextmanager
def serving(server: socketserver.TCPServer, stop: threading.Event | None = None) -> Iterator[str]:
    """Run ``server`` in a thread; its URL while the block runs, then stop it."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        if stop is not None:
            stop.set()
        server.shutdown()
        server.server_close()


class _Raw(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def raw_server(serve: Callable[[socket.socket, threading.Event], None]) -> Iterator[str]:
    """A TCP server whose every connection is handed to ``serve`` (with a stop event)."""
    stop = threading.Event()

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            try:
                serve(self.request, stop)
            except OSError:
                pass  # the client gave up and closed: what these tests want

    with serving(_Raw(("127.0.0.1", 0), Handler), stop) as url:
        yield url


def hang(conn: socket.socket, stop: threading.Event) -> None:
    """Accept, read the request, never answer."""
    conn.recv(65536)
    stop.wait(120)


def trickle(conn: socket.socket, stop: threading.Event) -> None:
    """Answer the headers at once, then one byte of body every 0.2 s, forever."""
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n")
    while not stop.wait(0.2):
        conn.sendall(b" ")


def trickle_headers(conn: socket.socket, stop: threading.Event) -> None:
    """The status line, then one header byte every 0.2 s: the headers never end."""
    conn.recv(65536)
    conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    while not stop.wait(0.2):
        conn.sendall(b"a")


@contextmanager
def http_server(answer: Callable[[str, str, bytes], tuple[str, bytes]]) -> Iterator[str]:
    """An HTTP server answering 200 with ``answer(method, path, body) -> (content_type, body)``."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            content_type, body = answer(self.command, self.path, self.rfile.read(length) if length else b"")
            self.send_response(200)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_DELETE = _reply

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    with serving(server) as url:
        yield url


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- connection refused --------------------------------------------------------------------------


def test_a_closed_port_fails_fast_naming_host_and_port(config):
    port = closed_port()
    started = time.monotonic()
    code, stderr = run_cli("plan", "-f", str(config), "--endpoint", f"http://127.0.0.1:{port}")
    elapsed = time.monotonic() - started
    assert code == 1
    assert f"cannot reach 127.0.0.1:{port}: connection refused" in stderr
    assert elapsed < 5, f"a refused connection took {elapsed:.1f}s to report (contract: < 3 s)"


def test_a_closed_port_fails_fast_for_apply_in_a_real_process(config, tmp_path):
    port = closed_port()
    code, stderr = run_subprocess(
        "apply", "-f", str(config), "--auto-approve", "--endpoint", f"http://127.0.0.1:{port}", cwd=tmp_path, limit=30
    )
    assert code == 1 and f"cannot reach 127.0.0.1:{port}: connection refused (GET /v0/auth/me)" in stderr


# -- deadlines ---------------------------------------------------------------------------------


@pytest.mark.parametrize("serve", [hang, trickle, trickle_headers], ids=["hang", "trickle", "trickle-headers"])
def test_a_server_that_never_finishes_its_answer_fails_after_the_timeout(config, tmp_path, serve):
    with raw_server(serve) as url:
        started = time.monotonic()
        code, stderr = run_subprocess("plan", "-f", str(config), "--endpoint", url, "--timeout", "1", cwd=tmp_path)
        elapsed = time.monotonic() - started
    assert code == 1
    assert "within 1s (--timeout)" in stderr and url.removeprefix("http://") in stderr
    assert elapsed < 20, f"--timeout 1 took {elapsed:.1f}s"  # was 222 s (hang) and 496 s (trickle)


def test_apply_against_a_hanging_server_fails_after_the_timeout(config):
    with raw_server(hang) as url:
        code, stderr = run_cli("apply", "-f", str(config), "--auto-approve", "--endpoint", url, "--timeout", "1")
    assert code == 1 and "within 1s (--timeout)" in stderr and "(GET /v0/auth/me)" in stderr  # its first request


API_COMMANDS = {
    "plan": ["plan", "-f", "{config}"],
    "apply": ["apply", "-f", "{config}", "--auto-approve", "--secrets-out", "{tmp}/s.json"],
    "drift": ["drift", "-f", "{config}"],
    "unlock": ["unlock"],
    "dns": ["dns", "-f", "{config}"],
    "rotate": ["rotate", "api_key/org-reader", "-f", "{config}", "--secrets-out", "{tmp}/s.json"],
    "export": ["export"],
    "import": ["import", "pod/*"],
}


@pytest.mark.parametrize("command", list(API_COMMANDS))
def test_every_command_that_talks_to_the_api_obeys_timeout(command, config, tmp_path):
    args = [a.format(config=config, tmp=tmp_path) for a in API_COMMANDS[command]]
    assert "--timeout SECONDS" in CliRunner().invoke(cli, [command, "--help"]).stdout
    with raw_server(hang) as url:
        code, stderr = run_cli(*args, "--endpoint", url, "--timeout", "0.3")
    assert code == 1 and "within 0.3s (--timeout)" in stderr, stderr


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_timeout_that_is_not_a_positive_number_is_refused(config, value):
    result = CliRunner().invoke(cli, ["plan", "-f", str(config), "--timeout", value], env={"AGENTMAIL_API_KEY": KEY})
    assert result.exit_code != 0 and "--timeout" in result.stderr
    assert TRACEBACK not in result.stdout + result.stderr


# -- answers that are not the API --------------------------------------------------------------

HTML = b"<html><head><title>Welcome to nginx!</title></head><body>It works</body></html>"


def _echo_without_ids(method: str, path: str, body: bytes) -> tuple[str, bytes]:
    """Looks like the API but leaves out every id: the lock's create echoes the name it was sent,
    and each list holds one item without its id."""
    if method == "POST":
        sent = json.loads(body or b"{}")
        return "application/json", json.dumps({"name": sent.get("name")}).encode()
    items_key = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
    return "application/json", json.dumps({items_key: [{"name": "no id"}], "count": 1}).encode()


ANSWERS: dict[str, Callable[[str, str, bytes], tuple[str, bytes]]] = {
    "html": lambda m, p, b: ("text/html", HTML),
    "empty": lambda m, p, b: ("application/json", b""),
    "array": lambda m, p, b: ("application/json", b"[]"),
    "wrong-object": lambda m, p, b: ("application/json", b'{"hello": "world"}'),
    "missing-ids": _echo_without_ids,
}


@pytest.mark.parametrize("kind", list(ANSWERS))
def test_apply_against_a_server_that_is_not_the_api_is_a_clear_error(config, kind):
    with http_server(ANSWERS[kind]) as url:
        code, stderr = run_cli("apply", "-f", str(config), "--auto-approve", "--endpoint", url)
    assert code == 1, stderr
    assert "unexpected response from the API" in stderr
    assert "(GET /v0/auth/me)" in stderr or "(POST /v0/pods)" in stderr  # the key's scope, or the lock
    assert "lock" not in stderr  # never "another apply holds the organisation lock (None)"


@pytest.mark.parametrize("kind", list(ANSWERS))
def test_plan_against_a_server_that_is_not_the_api_is_a_clear_error(config, kind):
    with http_server(ANSWERS[kind]) as url:
        code, stderr = run_cli("plan", "-f", str(config), "--endpoint", url)
    assert code == 1, stderr
    assert "unexpected response from the API" in stderr and "(GET /v0/" in stderr


def test_an_html_page_is_summarised_by_its_title(config):
    with http_server(ANSWERS["html"]) as url:
        _, stderr = run_cli("plan", "-f", str(config), "--endpoint", url)
    assert "Welcome to nginx!" in stderr and "<html>" not in stderr


# -- the endpoint itself -----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["/v0", "/v0/"])
def test_an_endpoint_ending_in_v0_gets_a_hint(config, suffix):
    code, stderr = run_cli("plan", "-f", str(config), "--endpoint", f"https://api.example.test{suffix}")
    assert code == 1
    assert "the endpoint is the API root without /v0" in stderr and "https://api.example.test" in stderr


def _api_that_forgets_ids(method: str, path: str, body: bytes) -> tuple[str, bytes]:
    """Lists are empty and the lock works, but every create answers an object without its id."""
    sent = json.loads(body or b"{}") if method == "POST" else {}
    if method == "POST" and sent.get("client_id") == "mailctl.lock":
        return "application/json", json.dumps({"pod_id": "lock-pod", **sent}).encode()
    if method == "GET":
        items_key = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
        return "application/json", json.dumps({items_key: [], "count": 0}).encode()
    return "application/json", json.dumps({"name": sent.get("name")}).encode()


def test_a_create_answered_without_its_id_fails_that_change_clearly(config, tmp_path):
    with http_server(_api_that_forgets_ids) as url:
        result = CliRunner().invoke(
            cli,
            [
                "apply",
                "-f",
                str(config),
                "--auto-approve",
                "--endpoint",
                url,
                "--secrets-out",
                str(tmp_path / "secrets.json"),
            ],
            env={"AGENTMAIL_API_KEY": KEY, "AGENTMAIL_BASE_URL": None},
        )
    output = result.stdout + result.stderr
    assert result.exit_code == 1 and TRACEBACK not in output
    assert "unexpected response from the API: the answer has no 'pod_id' (POST /v0/pods)" in output


# -- rows of the wrong type: valid JSON, not the API's -----------------------------------------

T = "2026-01-01T00:00:00Z"
GOOD_POD = {"pod_id": "p1", "name": "Acme", "client_id": "e2e-acme", "created_at": T, "updated_at": T}
BAD_ROWS: dict[str, tuple[str, dict[str, Any] | bytes, str]] = {
    # case: (items key, the one row listed (or the whole body), what the error names)
    "deep-nesting": ("pods", b'{"pods": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    "pod-client-id-number": ("pods", {**GOOD_POD, "client_id": 5}, "(pod_id 'p1') has a 'client_id'"),
    "inbox-id-number": (
        "inboxes",
        {"pod_id": "p1", "inbox_id": 7, "email": "x", "created_at": T, "updated_at": T},
        "has a 'inbox_id' that is a JSON number",
    ),
    "domain-number": (
        "domains",
        {"domain_id": "d1", "domain": 2, "feedback_enabled": True, "subdomains_enabled": False},
        "(domain_id 'd1') has a 'domain' that is a JSON number",
    ),
    "key-name-number": (
        "api_keys",
        {"api_key_id": "k1", "prefix": "am_1", "name": 12, "created_at": T},
        "(api_key_id 'k1') has a 'name' that is a JSON number",
    ),
    "key-permissions-text": (
        "api_keys",
        {"api_key_id": "k1", "prefix": "am_1", "name": "n", "permissions": "all", "created_at": T},
        "(api_key_id 'k1') has a 'permissions' that is a JSON string",
    ),
    "webhook-event-objects": (
        "webhooks",
        {"webhook_id": "w1", "url": "https://h.test/x", "event_types": [{"a": 1}], "enabled": True, "secret": "s"},
        "(webhook_id 'w1') has a 'event_types' that is a JSON array",
    ),
}
SLASHED = ["a/b", "x/../y", "e2e-a/domain/z"]


def _api_with_row(items_key: str, row: dict[str, Any] | bytes) -> Callable[[str, str, bytes], tuple[str, bytes]]:
    """An API whose ``items_key`` lists hold ``row`` (the others a valid pod and nothing else); the
    lock's create and every write answer as the API would."""

    def answer(method: str, path: str, body: bytes) -> tuple[str, bytes]:
        key = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
        sent = json.loads(body or b"{}") if method in ("POST", "PATCH") else {}
        if method == "POST" and key == "pods":
            return "application/json", json.dumps({"pod_id": "lock", "created_at": T, "updated_at": T, **sent}).encode()
        if method != "GET" or key not in ("pods", "inboxes", "domains", "api_keys", "webhooks", "allow", "block"):
            return "application/json", b"{}"
        if key == items_key and isinstance(row, bytes):
            return "application/json", row
        items = [row] if key == items_key else [GOOD_POD] if key == "pods" else []
        return "application/json", json.dumps({"entries" if key in ("allow", "block") else key: items}).encode()

    return answer


def _run_against(answer: Callable[[str, str, bytes], tuple[str, bytes]], command: str, config: Path, tmp: Path):
    args = [a.format(config=config, tmp=tmp) for a in API_COMMANDS[command]]
    with http_server(answer) as url:
        return run_cli(*args, "--endpoint", url, "--timeout", "5")


@pytest.mark.parametrize("command", ["plan", "export"])
@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_row_of_the_wrong_type_is_a_clear_error(case, command, config, tmp_path):
    items_key, row, named = BAD_ROWS[case]
    code, stderr = _run_against(_api_with_row(items_key, row), command, config, tmp_path)
    assert code == 1, stderr
    assert stderr.startswith("Error: unexpected response from the API: ") and named in stderr, stderr
    assert f"(GET /v0/{items_key.replace('_', '-')})" in stderr, stderr


@pytest.mark.parametrize("command", [c for c in API_COMMANDS if c != "unlock"])
@pytest.mark.parametrize("client_id", SLASHED)
def test_a_pod_client_id_with_a_slash_is_never_misread_nor_a_crash(client_id, command, config, tmp_path):
    """The API's client_ids are 1-256 of A-Z a-z 0-9 - . _ ~: ``e2e-a/domain/z`` is not one, and
    read as given it would be a domain address (and ``a/b`` a crash in export)."""
    answer = _api_with_row("pods", {**GOOD_POD, "client_id": client_id})
    code, stderr = _run_against(answer, command, config, tmp_path)
    assert code == 1, stderr
    assert "unexpected response from the API: an item of 'pods' (pod_id 'p1') has a 'client_id'" in stderr, stderr
    assert "(GET /v0/pods)" in stderr


@pytest.mark.parametrize(
    "detail, named",
    [
        ({"status": "VERIFIED", "records": [{"type": 1}]}, "'records'"),
        ({"status": "VERIFIED", "records": "MX"}, "'records'"),
        ({"status": {"state": "ok"}, "records": []}, "'status'"),
    ],
)
def test_dns_records_of_the_wrong_type_are_a_clear_error(detail, named, config, tmp_path):
    domain = {
        "domain_id": "d1",
        "domain": "shared.e2e-mail.test",
        "feedback_enabled": True,
        "subdomains_enabled": False,
    }
    listing = _api_with_row("domains", domain)

    def answer(method: str, path: str, body: bytes) -> tuple[str, bytes]:
        if method == "GET" and path.split("?")[0] == "/v0/domains/d1":
            return "application/json", json.dumps({**domain, **detail}).encode()
        return listing(method, path, body)

    code, stderr = _run_against(answer, "dns", config, tmp_path)
    assert code == 1, stderr
    assert stderr.startswith("Error: unexpected response from the API: the answer has a " + named), stderr
    assert "(GET /v0/domains/d1)" in stderr
