"""Issue 10: slow clients cannot starve the sandbox. With 100 idle connections and then 100
half-sent requests held open, a normal request is still served (the 2 s target is measured by
`python bench/sandbox.py --slow-clients`; here only "served at all", with a generous timeout).
Stopping the server with all of them open closes everything cleanly (no EBADF in the loop)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import ExitStack
from urllib.parse import urlsplit

import httpx
import pytest

from mailctl.sandbox.app import create_app
from mailctl.sandbox.server import run_in_thread

KEY = "am_unit_slow_clients_key_0123"


@pytest.fixture
def served() -> Iterator[str]:
    url, stop = run_in_thread(create_app(api_keys=(KEY,)))
    yield url
    stop()


def _hold(stack: ExitStack, url: str, count: int, payload: bytes) -> None:
    parts = urlsplit(url)
    for _ in range(count):
        sock = stack.enter_context(socket.create_connection((parts.hostname, parts.port), timeout=5))
        if payload:
            sock.sendall(payload)


def test_a_request_is_served_while_idle_and_half_sent_connections_are_held(served: str) -> None:
    with ExitStack() as stack:
        _hold(stack, served, 100, b"")
        _hold(stack, served, 100, b'POST /v0/pods HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"na')
        response = httpx.get(f"{served}/v0/pods", headers={"Authorization": f"Bearer {KEY}"}, timeout=30)
        assert response.status_code == 200


def test_stopping_with_connections_open_raises_nothing_in_the_server_thread() -> None:
    url, stop = run_in_thread(create_app(api_keys=(KEY,)))
    errors: list[BaseException | None] = []
    previous = threading.excepthook
    threading.excepthook = lambda args: errors.append(args.exc_value)
    try:
        with ExitStack() as stack:
            _hold(stack, url, 5, b"GET /v0/pods HTTP/1.1\r\n")
            assert httpx.get(f"{url}/v0/pods", headers={"Authorization": f"Bearer {KEY}"}).status_code == 200
            stop()
    finally:
        threading.excepthook = previous
    assert errors == []
