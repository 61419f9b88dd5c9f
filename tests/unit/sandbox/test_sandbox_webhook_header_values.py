"""Webhook header values HTTP cannot carry, and the delivery log (the tester's
test_sandbox_delivery_log_header_value): a value with a space or tab at either end was stored
(create: 200), then every delivery failed before it was sent (h11: "Illegal header value"), and
the attempt's ``error`` in ``GET /_sandbox/deliveries`` quoted the write-only value whole.

Now such a value is a 400 naming the header, never the value (create and ``PATCH .../headers``),
and an attempt whose request cannot be built or sent records the exception's type and a generic
reason, never its text."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import h11
import httpx
import pytest

from mailctl.sandbox.app import SandboxApp, create_app
from mailctl.sandbox.backend.webhooks import WEBHOOK
from mailctl.sandbox.webhook_worker import MAX_ATTEMPTS, WebhookWorker, http_post

KEY = "am_unit_webhook_header_values_key"
VALUE = "padded-secret-value-4b1d"  # never in a response or the delivery log
PADDED = [f" {VALUE} ", f"{VALUE} ", f"\t{VALUE}", f"{VALUE}\t", " "]


@pytest.fixture
def app() -> Iterator[SandboxApp]:
    made = create_app(api_keys=(KEY,), webhook_retry_ms=1000)
    made.webhooks.close()  # each test drives its own worker
    yield made
    made.close()


def _http(app: SandboxApp) -> httpx.Client:
    return httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers={"Authorization": f"Bearer {KEY}"}
    )


def _hook(http: httpx.Client, headers: dict[str, str], url: str = "http://h.invalid/x") -> httpx.Response:
    return http.post("/v0/webhooks", json={"url": url, "event_types": ["message.sent"], "headers": headers})


def _refused_naming_the_header_only(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    assert "X-Tok" in response.json()["message"] and "space or tab" in response.json()["message"]
    assert VALUE not in response.text


@pytest.mark.parametrize("value", PADDED)
def test_a_value_with_a_space_or_tab_at_either_end_is_refused_on_create(app: SandboxApp, value: str) -> None:
    http = _http(app)
    _refused_naming_the_header_only(_hook(http, {"X-Tok": value}))
    assert http.get("/v0/webhooks").json()["webhooks"] == []


@pytest.mark.parametrize("value", PADDED)
def test_a_value_with_a_space_or_tab_at_either_end_is_refused_on_patch_headers(app: SandboxApp, value: str) -> None:
    http = _http(app)
    inbox = http.post("/v0/inboxes", json={}).json()["inbox_id"]
    made = http.post(
        f"/v0/inboxes/{inbox}/webhooks", json={"url": "http://h.invalid/x", "event_types": ["message.sent"]}
    ).json()
    route = f"/v0/inboxes/{inbox}/webhooks/{made['webhook_id']}/headers"
    _refused_naming_the_header_only(http.patch(route, json={"headers": {"X-Ok": "kept", "X-Tok": value}}))
    assert http.get(route).json()["header_names"] == []  # nothing of the refused PATCH was stored


@pytest.mark.parametrize(
    ("value", "why"),
    [("a" * 4097, "is longer than 4096 characters"), ("\u20ac", "a control character or one beyond U+00FF")],
)
def test_a_value_too_long_or_beyond_latin_1_is_refused_for_that_reason(app: SandboxApp, value: str, why: str) -> None:
    """Both were refused as holding "control characters", which neither does."""
    response = _hook(_http(app), {"X-Tok": value})
    assert response.status_code == 400 and why in response.json()["message"]
    assert value not in response.text


@pytest.mark.parametrize("value", ["", "inner\tgaps and spaces", "caf\xe9", "a"])
def test_a_value_http_can_carry_is_accepted(app: SandboxApp, value: str) -> None:
    assert _hook(_http(app), {"X-Tok": value}).status_code == 200


def _delivery_log_after_attempts(app: SandboxApp, worker_post: object) -> str:
    """Every attempt of one delivery to a webhook stored with a padded value (as one made before
    the rule was), through ``worker_post``; the delivery log as JSON text."""
    http = _http(app)
    webhook_id = _hook(http, {"X-Tok": VALUE}).json()["webhook_id"]
    with app.store.transaction() as tx:
        row = tx.get(WEBHOOK, webhook_id)
        assert row is not None
        row.body["headers"] = {"X-Tok": f" {VALUE} "}
        tx.update(row)
    inbox = http.post("/v0/inboxes", json={}).json()["inbox_id"]
    http.post(f"/v0/inboxes/{inbox}/messages/send", json={"to": "x@outside.example", "text": "x"})
    now = [1_000_000.0]
    worker = WebhookWorker(
        app.store,
        lambda org: app.orgs.get(org).settings,
        post=worker_post,
        clock=lambda: now[0],  # type: ignore[arg-type]
    )
    for _ in range(MAX_ATTEMPTS):
        worker.run_once()
        now[0] += 3600
    return http.get("/_sandbox/deliveries").text


def test_an_attempt_that_cannot_send_a_stored_header_never_logs_its_value(app: SandboxApp) -> None:
    """Over the real POST (httpx, h11) to a socket that listens but never answers: h11 refuses
    the value before a byte is sent, and its message quoted it."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        port = listening.getsockname()[1]

        def post(url: str, body: bytes, headers: dict[str, str]) -> int:
            return http_post(f"http://127.0.0.1:{port}/hook", body, headers)

        log = _delivery_log_after_attempts(app, post)
    assert VALUE not in log, log
    [shown] = json.loads(log)["deliveries"]
    assert shown["status"] == "failed"
    assert {a["error"] for a in shown["attempts"]} == {
        "LocalProtocolError: the request could not be sent: a header or its framing is invalid "
        "(the details are not recorded: they may quote a header value)"
    }


def test_an_attempt_error_raised_while_building_the_request_is_recorded_without_its_text(app: SandboxApp) -> None:
    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        raise h11.LocalProtocolError(f"Illegal header value b' {VALUE} '")

    log = _delivery_log_after_attempts(app, post)
    assert VALUE not in log, log
    [shown] = json.loads(log)["deliveries"]
    assert shown["attempts"][0]["error"].startswith("LocalProtocolError: the request could not be sent")


def test_an_attempt_error_of_any_other_kind_is_recorded_by_type_only(app: SandboxApp) -> None:
    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        raise RuntimeError(f"cannot send X-Tok: {VALUE}")

    log = _delivery_log_after_attempts(app, post)
    assert VALUE not in log, log
    assert json.loads(log)["deliveries"][0]["attempts"][0]["error"] == (
        "RuntimeError: the request could not be sent (the details are not recorded: they may quote a header value)"
    )


def test_an_unreachable_handler_keeps_its_connection_error_text(app: SandboxApp) -> None:
    """A connection's own error says nothing of the request, and tells the user what went wrong."""

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    log = _delivery_log_after_attempts(app, post)
    assert json.loads(log)["deliveries"][0]["attempts"][0]["error"] == "ConnectError: [Errno 111] Connection refused"
