"""--timeout: a deadline per attempt that trickles cannot stretch, a bounded retry budget, quick
give-up on a closed port, and 5xx messages that do not contradict the server."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from client_harness import CANARY_KEY, error, replies

from mailctl.api.client import AgentMailClient
from mailctl.api.retry import QUICK_WAITS, retry_budget
from mailctl.errors import TransientError, UsageError

OK = httpx.Response(200, json={"ok": True})


class FakeClock:
    """A monotonic clock that the fake sleep advances."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_retries_stop_once_the_retry_budget_is_spent(harness):
    clock = FakeClock()
    client = harness.client(
        lambda r: error(429, "rate_limit_exceeded", **{"Retry-After": "15"}),
        sleep=clock.sleep,
        clock=clock,
        timeout=10,
        max_retries=50,
    )
    with pytest.raises(TransientError):
        client.get("/v0/pods")
    assert retry_budget(10) == 60
    assert clock.sleeps == [15.0] * 4  # a fifth wait would end past 60 s


def test_the_retry_budget_grows_with_a_long_timeout():
    assert retry_budget(1) == 60 and retry_budget(300) == 600


def test_a_refused_connection_is_retried_quickly_then_reported(harness):
    def refuse(request):
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    client = harness.client(refuse, base_url="https://api.test")
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    assert harness.sleeps == list(QUICK_WAITS) and sum(QUICK_WAITS) < 1
    assert "cannot reach api.test:443: connection refused (GET /v0/pods)" in str(caught.value)


def test_a_connect_timeout_is_not_retried(harness):
    client = harness.client(replies(httpx.ConnectTimeout("timed out"), OK), timeout=3)
    with pytest.raises(TransientError, match=r"cannot reach api.test:80: no connection within 3s"):
        client.get("/v0/pods")
    assert len(harness.requests) == 1


def test_a_timed_out_plain_post_is_ambiguous_and_says_so(harness):
    client = harness.client(replies(httpx.ReadTimeout("timed out"), OK), timeout=2)
    with pytest.raises(TransientError) as caught:
        client.post("/v0/api-keys", {"name": "k"})
    assert caught.value.ambiguous
    assert "within 2s (--timeout) (the request may have been applied" in str(caught.value)


def test_a_503_that_says_not_processed_gets_no_may_have_been_applied_hint(harness):
    client = harness.client(replies(error(503, "service_unavailable", "Injected fault: the request was not processed")))
    with pytest.raises(TransientError) as caught:
        client.post("/v0/api-keys", {"name": "k"})
    message = str(caught.value)
    assert "not processed" in message and "may have been applied" not in message
    assert caught.value.ambiguous  # the caller still looks before re-creating: harmless, and safe


def test_a_503_without_that_statement_keeps_the_hint(harness):
    client = harness.client(replies(error(503, "service_unavailable", "upstream down")))
    with pytest.raises(TransientError, match=r"upstream down \(the request may have been applied"):
        client.post("/v0/api-keys", {"name": "k"})


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), True, "30"])
def test_a_timeout_must_be_a_positive_number(timeout):
    with pytest.raises(UsageError, match="invalid timeout"):
        AgentMailClient("http://api.test", CANARY_KEY, timeout=timeout)


# -- over real sockets: the deadline-aware transport ----------------------------------------------


@pytest.fixture
def trickling_server() -> Iterator[str]:
    """Headers at once, then a byte of body every 50 ms for ever (until the client leaves)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            try:
                while not stop.wait(0.05):
                    conn.sendall(b" ")
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    listener.close()
    thread.join(5)


def test_a_trickling_answer_cannot_outlast_the_deadline(trickling_server):
    with AgentMailClient(trickling_server, CANARY_KEY, timeout=0.5) as client:
        started = time.monotonic()
        with pytest.raises(TransientError, match=r"no complete answer from 127.0.0.1:\d+ within 0.5s"):
            client.get("/v0/pods")
        assert time.monotonic() - started < 10  # without the deadline: 100000 x 50 ms


def test_a_real_answer_is_read_whole_and_decoded():
    body = b'{"pods": [], "count": 0}'
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            conn.sendall(
                head + b"".join(b"%x\r\n%s\r\n" % (1, body[i : i + 1]) for i in range(len(body))) + b"0\r\n\r\n"
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with AgentMailClient(f"http://127.0.0.1:{listener.getsockname()[1]}", CANARY_KEY, timeout=5) as client:
        assert client.get("/v0/pods") == {"pods": [], "count": 0}
    listener.close()
    thread.join(5)


def test_a_gzipped_answer_is_decoded_once():
    import gzip

    body = gzip.compress(b'{"pod_id": "p1"}')
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.recv(65536)
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
            )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    with AgentMailClient(f"http://127.0.0.1:{listener.getsockname()[1]}", CANARY_KEY, timeout=5) as client:
        assert client.get("/v0/pods/p1") == {"pod_id": "p1"}
    listener.close()
    thread.join(5)
