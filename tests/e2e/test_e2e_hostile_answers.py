"""A hostile or broken server cannot make mailctl exhaust memory, hang, leak the API key, or build
inside another tenant's pod. Each server is a real socket in a thread of the test process (see
test_e2e_broken_endpoints.py); every failure is an ``Error:`` line with exit 1, no traceback."""

from __future__ import annotations

import json
import socket
import threading
import uuid
import zlib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import load_fixture
from test_e2e_broken_endpoints import KEY, http_server, raw_server, run_cli, run_subprocess

LISTS = {"pods": [], "inboxes": [], "domains": [], "api_keys": [], "webhooks": [], "entries": [], "count": 0}


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "mailctl.yaml"
    path.write_text(yaml.safe_dump(load_fixture("tenants.yaml"), sort_keys=False))
    return path


@cache
def _gzip_bomb() -> bytes:
    """~100 KB of gzip that inflates to 100 MiB of valid JSON (spaces, then empty lists)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    spaces = b" " * 2**20
    parts = [packer.compress(spaces) for _ in range(100)]
    return b"".join(parts) + packer.compress(json.dumps(LISTS).encode()) + packer.flush()


def _bomb(conn: socket.socket, stop: threading.Event) -> None:
    conn.recv(65536)
    body = _gzip_bomb()
    head = f"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    conn.sendall(head.encode() + body)


def test_a_compressed_answer_is_capped_at_what_it_inflates_to(config: Path, tmp_path: Path):
    with raw_server(_bomb) as url:
        code, stderr = run_subprocess("plan", "-f", str(config), "--endpoint", url, "--timeout", "10", cwd=tmp_path)
    assert code == 1 and "an answer larger than 64 MiB" in stderr, stderr


def _refusing(retry_after: str, path_prefix: str = "/v0/inboxes") -> Any:
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        while True:
            request = conn.recv(65536)
            if not request:
                return
            path = request.split(b" ", 2)[1].decode()
            if path.startswith(path_prefix):
                body = b'{"name": "RateLimitError", "code": "rate_limited", "message": "slow down"}'
                status = f"429 Too Many Requests\r\nRetry-After: {retry_after}"
            else:
                body, status = json.dumps(LISTS).encode(), "200 OK"
            conn.sendall(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )

    return serve


@pytest.mark.parametrize("retry_after", ["1000000000", "100"])
def test_a_retry_after_longer_than_the_retry_budget_fails_at_once_instead_of_hanging(
    config: Path, tmp_path: Path, retry_after: str
):
    with raw_server(_refusing(retry_after)) as url:
        code, stderr = run_subprocess(
            "plan", "-f", str(config), "--endpoint", url, "--timeout", "5", cwd=tmp_path, limit=45
        )
    assert code == 1 and "429" in stderr, stderr


def test_pages_that_never_end_are_a_clear_error(config: Path, tmp_path: Path):
    def answer(method: str, path: str, body: bytes) -> tuple[str, bytes]:
        items_key = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
        return "application/json", json.dumps({items_key: [], "count": 0, "next_page_token": uuid.uuid4().hex}).encode()

    with http_server(answer) as url:
        code, stderr = run_subprocess("plan", "-f", str(config), "--endpoint", url, cwd=tmp_path, limit=60)
    assert code == 1 and "next_page_token" in stderr and "empty pages" in stderr, stderr


@pytest.mark.parametrize("code_field", [KEY, "x" * 1_000_000], ids=["the-key", "a-megabyte"])
def test_an_error_code_is_redacted_and_clipped(config: Path, code_field: str):
    def serve(conn: socket.socket, stop: threading.Event) -> None:
        conn.recv(65536)
        body = json.dumps({"code": code_field, "message": "bad"}).encode()
        conn.sendall(
            f"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n".encode()
            + body
        )

    with raw_server(serve) as url:
        code, stderr = run_cli("plan", "-f", str(config), "--endpoint", url)
    assert code == 1 and KEY not in stderr and len(stderr) < 2000, stderr[:300]


def test_a_lock_holder_named_with_the_key_is_redacted(config: Path, tmp_path: Path):
    def answer(method: str, path: str, body: bytes) -> tuple[str, bytes]:
        if method == "POST":
            return "application/json", json.dumps(
                {"pod_id": "p1", "client_id": "mailctl.lock", "name": f"evil {KEY} pid 1"}
            ).encode()
        items_key = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
        return "application/json", json.dumps({items_key: [], "count": 0}).encode()

    with http_server(answer) as url:
        code, stderr = run_cli(
            "apply", "-f", str(config), "--auto-approve", "--endpoint", url, "--secrets-out", str(tmp_path / "s.json")
        )
    assert code == 1 and "holds the organisation lock" in stderr and KEY not in stderr, stderr


def test_a_create_answered_with_another_pod_builds_nothing_inside_it(config: Path, tmp_path: Path):
    """The create of a pod is answered with an existing pod of another client_id: that change
    fails, and nothing of the tenant is created on the other pod's id."""
    writes: list[str] = []

    def answer(method: str, path: str, body: bytes) -> tuple[str, bytes]:
        sent = json.loads(body or b"{}") if method != "GET" else {}
        if method != "GET":
            writes.append(f"{method} {path}")
        if method == "POST" and str(sent.get("client_id", "")).startswith("mailctl.lock"):
            return "application/json", json.dumps({"pod_id": "lock-pod", **sent}).encode()
        if method == "POST" and path == "/v0/pods":
            return "application/json", json.dumps(
                {"pod_id": "victim-pod", "client_id": "other-victim", "name": "Victim"}
            ).encode()
        if method in ("POST", "PATCH"):
            return "application/json", json.dumps({"name": sent.get("name"), "id": "x"}).encode()
        items_key = path.split("?")[0].rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
        return "application/json", json.dumps({items_key: [], "count": 0}).encode()

    with http_server(answer) as url:
        code, stderr = run_cli(
            "apply", "-f", str(config), "--auto-approve", "--endpoint", url, "--secrets-out", str(tmp_path / "s.json")
        )
    assert code == 1 and "other-victim" in stderr, stderr
    assert not [w for w in writes if "victim-pod" in w], writes
