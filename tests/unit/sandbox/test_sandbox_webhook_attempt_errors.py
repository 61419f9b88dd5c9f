"""One delivery attempt that goes wrong in any way is a failed attempt, recorded and retried; the
worker and the delivery's record never depend on what the POST raised or on the stored headers."""

from __future__ import annotations

from typing import Any

import h11
import httpx

from mailctl.sandbox.app import create_app
from mailctl.sandbox.backend.webhooks import WEBHOOK
from mailctl.sandbox.webhook_worker import MAX_ATTEMPTS, WebhookWorker

KEY = "am_unit_webhook_attempt_errors_key"


def _sent_with_a_webhook() -> tuple[Any, httpx.Client, str]:
    app = create_app(api_keys=(KEY,), webhook_retry_ms=1000)
    app.webhooks.close()  # the test drives its own worker
    http = httpx.Client(
        transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers={"Authorization": f"Bearer {KEY}"}
    )
    hook = http.post(
        "/v0/webhooks", json={"url": "http://h.invalid/x", "event_types": ["message.sent"], "headers": {"X-T": "t"}}
    )
    inbox = http.post("/v0/inboxes", json={}).json()["inbox_id"]
    http.post(f"/v0/inboxes/{inbox}/messages/send", json={"to": "x@outside.example", "text": "x"})
    return app, http, hook.json()["webhook_id"]


def test_an_attempt_whose_post_raises_anything_is_a_failed_attempt_and_retried() -> None:
    """httpcore let h11's LocalProtocolError out (a custom Content-Length header): the attempt
    thread died, and the delivery stayed pending with no attempt recorded, forever."""
    app, http, _ = _sent_with_a_webhook()
    now = [1_000_000.0]

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        raise h11.LocalProtocolError("Too much data for declared Content-Length")

    worker = WebhookWorker(app.store, lambda org: app.orgs.get(org).settings, post=post, clock=lambda: now[0])
    for _ in range(MAX_ATTEMPTS):
        worker.run_once()
        now[0] += 3600
    [shown] = http.get("/_sandbox/deliveries").json()["deliveries"]
    assert shown["status"] == "failed"
    assert [a["error"] for a in shown["attempts"]] == [  # by type: h11's text may quote a header value
        "LocalProtocolError: the request could not be sent: a header or its framing is invalid "
        "(the details are not recorded: they may quote a header value)"
    ] * MAX_ATTEMPTS


def test_stored_custom_headers_never_replace_or_repeat_the_deliverys_own() -> None:
    """A webhook stored before reserved names were refused keeps them; a delivery sends its own
    Content-Type and svix-* headers once each (the custom copy first was what a handler read)."""
    app, _, webhook_id = _sent_with_a_webhook()
    with app.store.transaction() as tx:
        row = tx.get(WEBHOOK, webhook_id)
        assert row is not None
        row.body["headers"] = {"X-T": "t", "SVIX-ID": "forged", "content-type": "text/plain", "Content-Length": "1"}
        tx.update(row)
    sent: list[dict[str, str]] = []

    def post(url: str, body: bytes, headers: dict[str, str]) -> int:
        sent.append(headers)
        return 204

    WebhookWorker(app.store, lambda org: app.orgs.get(org).settings, post=post).run_once()
    [headers] = sent
    lowered = [name.lower() for name in headers]
    assert sorted(lowered) == ["content-type", "svix-id", "svix-signature", "svix-timestamp", "x-t"]
    assert headers["Content-Type"] == "application/json" and headers["svix-id"] != "forged"
