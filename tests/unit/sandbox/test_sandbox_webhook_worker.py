"""The webhook worker driven by hand: an injected clock and POST, ``run_once()``, no thread, no sleep."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from mailctl.sandbox.app import SandboxApp, create_app
from mailctl.sandbox.webhook_worker import LEASE, MAX_ATTEMPTS, Post, WebhookWorker

KEY = "am_unit_webhook_worker_key_0123"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Poster:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses, self.calls = statuses, []  # type: list[int], list[tuple[str, dict[str, str]]]

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.calls.append((url, headers))
        return self.statuses.pop(0) if self.statuses else 200


@pytest.fixture
def app() -> SandboxApp:
    return create_app(api_keys=(KEY,), webhook_retry_ms=1000)


def _http(app: SandboxApp, key: str = KEY) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers={"Authorization": f"Bearer {key}"}
    )


def _one_send(app: SandboxApp, key: str = KEY, username: str = "worker-sender", **hook: Any) -> str:
    http = _http(app, key)
    sender = http.post("/v0/inboxes", json={"username": username}).json()["inbox_id"]
    hook.setdefault("url", "http://h.invalid/x")
    webhook = http.post("/v0/webhooks", json={"event_types": ["message.sent"], **hook})
    http.post(f"/v0/inboxes/{sender}/messages/send", json={"to": "x@outside.example", "text": "x"})
    webhook_id: str = webhook.json()["webhook_id"]
    return webhook_id


def _worker(app: SandboxApp, poster: Post, clock: Clock) -> WebhookWorker:
    app.webhooks.close()  # the app's own thread stays out of the way
    return WebhookWorker(app.store, lambda org: app.orgs.get(org).settings, post=poster, clock=clock)


def _shown(app: SandboxApp) -> list[dict[str, Any]]:
    deliveries: list[dict[str, Any]] = _http(app).get("/_sandbox/deliveries").json()["deliveries"]
    return deliveries


def test_a_failed_attempt_is_retried_after_a_doubling_backoff(app: SandboxApp) -> None:
    clock, poster = Clock(), Poster([503, 503])
    worker = _worker(app, poster, clock)
    _one_send(app)
    assert worker.run_once() == 1.0 and len(poster.calls) == 1  # first retry after 1 s
    assert worker.run_once() == 1.0 and len(poster.calls) == 1  # not due yet: nothing sent
    clock.now += 1.0
    assert worker.run_once() == 2.0 and len(poster.calls) == 2  # then 2 s
    clock.now += 2.0
    assert worker.run_once() is None and len(poster.calls) == 3
    [shown] = _shown(app)
    assert (shown["status"], [a["status_code"] for a in shown["attempts"]]) == ("delivered", [503, 503, 200])


def test_a_delivery_fails_for_good_after_the_last_attempt(app: SandboxApp) -> None:
    clock, poster = Clock(), Poster([500] * MAX_ATTEMPTS)
    worker = _worker(app, poster, clock)
    _one_send(app)
    while (due := worker.run_once()) is not None:
        clock.now += due
    [shown] = _shown(app)
    assert (shown["status"], len(shown["attempts"]), shown["response_code"]) == ("failed", MAX_ATTEMPTS, 500)


def test_a_webhook_disabled_before_the_attempt_is_cancelled_unsent(app: SandboxApp) -> None:
    clock, poster = Clock(), Poster([])
    worker = _worker(app, poster, clock)
    webhook_id = _one_send(app)
    _http(app).patch(f"/v0/webhooks/{webhook_id}", json={"enabled": False})
    assert worker.run_once() is None and poster.calls == []
    assert _shown(app)[0]["status"] == "cancelled"


def test_the_custom_headers_go_out_with_their_values(app: SandboxApp) -> None:
    clock, poster = Clock(), Poster([])
    worker = _worker(app, poster, clock)
    _one_send(app, headers={"X-Auth": "value-1"})
    worker.run_once()
    [(url, headers)] = poster.calls
    assert url == "http://h.invalid/x" and headers["X-Auth"] == "value-1"
    assert headers["svix-timestamp"] == str(int(clock.now)) and headers["svix-signature"].startswith("v1,")


def test_an_unreachable_handler_is_a_failed_attempt_with_its_error(app: SandboxApp) -> None:
    def refuse(url: str, body: bytes, headers: dict[str, str]) -> int:
        raise httpx.ConnectError("connection refused")

    app.webhooks.close()
    worker = WebhookWorker(app.store, lambda org: app.orgs.get(org).settings, post=refuse, clock=Clock())
    _one_send(app)
    worker.run_once()
    [attempt] = _shown(app)[0]["attempts"]
    assert attempt["status_code"] is None and "ConnectError" in attempt["error"]


class _Wakes:
    """Counts ``WebhookWorker.wake`` calls (the worker itself stays closed)."""

    def __init__(self, app: SandboxApp) -> None:
        app.webhooks.close()
        self.count = 0
        app.webhooks.wake = self  # type: ignore[method-assign]

    def __call__(self) -> None:
        self.count += 1


def test_a_write_that_records_no_delivery_does_not_wake_the_worker(app: SandboxApp) -> None:
    wakes = _Wakes(app)
    http = _http(app)
    pod = http.post("/v0/pods", json={"name": "quiet"}).json()["pod_id"]
    http.post(f"/v0/pods/{pod}/inboxes", json={"username": "quiet-inbox"})
    http.post("/v0/webhooks", json={"url": "http://h.invalid/x", "event_types": ["message.sent"]})
    assert wakes.count == 0


def test_a_request_that_records_a_delivery_wakes_the_worker(app: SandboxApp) -> None:
    wakes = _Wakes(app)
    _one_send(app)
    assert wakes.count == 1  # the send; the inbox and the webhook created before it recorded none


def test_deliveries_left_pending_by_a_previous_run_wake_the_worker_at_start(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = str(tmp_path / "sandbox.db")
    first = create_app(db, api_keys=(KEY,))
    _Wakes(first)  # never sent: the delivery stays pending in the file
    _one_send(first)
    first.close()
    woken: list[WebhookWorker] = []
    monkeypatch.setattr(WebhookWorker, "wake", lambda worker: woken.append(worker))
    second = create_app(db, api_keys=(KEY,))
    assert woken == [second.webhooks]
    second.close()


def test_a_sandbox_with_nothing_pending_starts_no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    woken: list[WebhookWorker] = []
    monkeypatch.setattr(WebhookWorker, "wake", lambda worker: woken.append(worker))
    create_app(api_keys=(KEY,))
    assert woken == []


# -- one organisation's handler never holds another's deliveries back -----------------------------


class Gate:
    """A POST that hangs for one URL until released (an unresponsive handler); others answer."""

    def __init__(self, hanging: str, others: list[int]) -> None:
        self.hanging, self.others = hanging, others
        self.release, self.answered = threading.Event(), threading.Event()
        self.calls: list[str] = []

    def __call__(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        self.calls.append(url)
        if url == self.hanging:
            assert self.release.wait(30)
            return 200
        self.answered.set()
        return self.others.pop(0) if self.others else 200


def _wait_for(condition: Any) -> None:
    for _ in range(3000):
        if condition():
            return
        threading.Event().wait(0.01)
    raise AssertionError("timed out")


def test_an_unresponsive_handler_of_one_organisation_does_not_delay_another_organisations(app: SandboxApp) -> None:
    """QA: one worker posting in sequence, 5 s a hanging attempt: org 1's first delivery arrived
    after 25 s. Org 1's first attempt and its retry on schedule go out while org 2's hangs."""
    clock = Clock()
    gate = Gate("http://stuck.invalid/hook", others=[503])
    worker = _worker(app, gate, clock)
    other = _http(app).post("/_sandbox/organizations").json()["api_key"]
    _one_send(app, key=other, username="stuck-sender", url=gate.hanging)  # org 2's, recorded first
    _one_send(app, url="http://fine.invalid/hook")
    try:
        worker.wake()
        _wait_for(lambda: len(_shown(app)[0]["attempts"]) == 1)  # org 1's first attempt, recorded
        clock.now += 1.0  # org 1's first retry is due after 1 s
        worker.wake()
        _wait_for(lambda: gate.calls.count("http://fine.invalid/hook") == 2)
        assert gate.calls.count(gate.hanging) == 1 and not gate.release.is_set()
    finally:
        gate.release.set()
        worker.close()
    _wait_for(lambda: {d["status"] for d in _shown(app)} == {"delivered"})


# -- two servers on one --db ------------------------------------------------------------------------


def _two_servers(tmp_path: Path) -> tuple[SandboxApp, SandboxApp]:
    db = str(tmp_path / "sandbox.db")
    first = create_app(db, api_keys=(KEY,))
    return first, create_app(db, api_keys=(KEY,))


def test_two_servers_on_one_db_post_each_attempt_once(tmp_path: Path) -> None:
    """QA: both servers posted every pending attempt (10 POSTs for a delivery of at most 5)."""
    first, second = _two_servers(tmp_path)
    clock, poster = Clock(), Poster([])
    posted_while_the_other_looked: list[int] = []

    def slow_post(url: str, body: bytes, headers: dict[str, str]) -> int:
        other.run_once()  # the second server's pass, while the first's POST is in flight
        posted_while_the_other_looked.append(len(poster.calls))
        return poster(url, body, headers)

    worker = _worker(first, slow_post, clock)
    other = _worker(second, poster, clock)
    _one_send(first)
    worker.run_once()
    assert posted_while_the_other_looked == [0] and len(poster.calls) == 1
    [shown] = _shown(second)
    assert (shown["status"], len(shown["attempts"])) == ("delivered", 1)


def test_an_attempt_whose_lease_ran_out_is_recorded_beside_the_one_that_took_over(tmp_path: Path) -> None:
    """Attempts are appended to the stored row, not to a stale copy: neither server's is lost."""
    first, second = _two_servers(tmp_path)
    clock = Clock()
    other = _worker(second, Poster([503]), clock)

    def stalled_post(url: str, body: bytes, headers: dict[str, str]) -> int:
        clock.now += LEASE + 1  # this POST outlives its lease: the other server takes over
        other.run_once()
        return 200

    worker = _worker(first, stalled_post, clock)
    _one_send(first)
    worker.run_once()
    [shown] = _shown(first)
    assert sorted(a["status_code"] for a in shown["attempts"]) == [200, 503]


def test_a_header_value_beyond_ascii_is_delivered_as_its_latin_1_octets() -> None:
    """The API accepts header values of octets 0x80-0xff (RFC 9110's obs-text), so a webhook's
    ``X-Name: café`` must reach the handler as the octets it names. httpx encodes str values as
    ASCII: every attempt failed with UnicodeEncodeError, and the sandbox reported a delivery the
    real service would make as failing for good."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from mailctl.sandbox.webhook_worker import http_post

    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.headers.get("X-Name", "")  # http.server decodes header octets as latin-1
            received.append(raw.encode("latin-1"))
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        assert http_post(url, b"{}", {"X-Name": "caf\xe9", "Content-Type": "application/json"}) == 204
    finally:
        server.shutdown()
        server.server_close()
    assert received == [b"caf\xe9"]
