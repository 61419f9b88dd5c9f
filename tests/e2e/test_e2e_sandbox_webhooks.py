"""Webhook deliveries from `mailctl sandbox serve` to a handler written here (issue 20 point 2).

The handler is a real HTTP server in a thread of the test. It verifies each delivery's signature
with the algorithm Svix documents (https://docs.svix.com/receiving/verifying-payloads/how-manual),
implemented below and not taken from mailctl, checks the webhook's custom header, and parses the
body with the SDK's event models. Waits are bounded reads of a queue the handler fills, never
sleeps on a guess.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from agentmail import AgentMail
from agentmail.events.types.domain_verified_event import DomainVerifiedEvent
from agentmail.events.types.message_bounced_event import MessageBouncedEvent
from agentmail.events.types.message_delivered_event import MessageDeliveredEvent
from agentmail.events.types.message_received_event import MessageReceivedEvent
from agentmail.events.types.message_sent_event import MessageSentEvent
from agentmail.inboxes import CreateInboxRequest
from e2e_harness import SandboxProcess

TOKEN = "handler-shared-token-4242"
WAIT = 30.0  # the longest a delivery may take to arrive (the worker is prompt; CI is slow)


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


def svix_verify(secret: str, headers: dict[str, str], body: bytes, tolerance: int = 300) -> None:
    """Svix's manual verification: HMAC-SHA256 of ``{svix-id}.{svix-timestamp}.{body}`` keyed with
    the base64-decoded secret after ``whsec_``, compared (constant time) with each ``v1,`` entry."""
    msg_id, timestamp = headers["svix-id"], headers["svix-timestamp"]
    assert abs(time.time() - int(timestamp)) <= tolerance, "svix-timestamp is outside the tolerance"
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    given = [part.split(",", 1)[1] for part in headers["svix-signature"].split(" ") if part.startswith("v1,")]
    assert any(hmac.compare_digest(expected, sig) for sig in given), "bad svix-signature"


class Handler:
    """A local webhook endpoint: each POST is queued; ``fail_first`` answers 500 that many times."""

    def __init__(self, fail_first: int = 0) -> None:
        self.received: queue.Queue[Received] = queue.Queue()
        self.fail_first = fail_first
        outer = self

        class _Endpoint(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.received.put(Received({k.lower(): v for k, v in self.headers.items()}, body))
                status = 500 if outer.fail_first > 0 else 204
                outer.fail_first -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.start()

    def next(self) -> Received:
        try:
            return self.received.get(timeout=WAIT)
        except queue.Empty:
            raise AssertionError(f"no delivery within {WAIT:.0f} s") from None

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture
def handler() -> Iterator[Handler]:
    endpoint = Handler()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def box(sandbox: SandboxProcess) -> Iterator[SandboxProcess]:
    yield sandbox
    sandbox.configure(webhook_deliveries="enabled", webhook_retry_ms=1000)


def _inboxes(client: AgentMail) -> tuple[str, str]:
    sender = client.inboxes.create(request=CreateInboxRequest(username="hook-sender")).inbox_id
    recipient = client.inboxes.create(request=CreateInboxRequest(username="hook-recipient")).inbox_id
    return sender, recipient


def _deliveries(box: SandboxProcess, **query: str) -> list[dict[str, Any]]:
    response = box.http.get("/_sandbox/deliveries", params=query)
    response.raise_for_status()
    deliveries: list[dict[str, Any]] = response.json()["deliveries"]
    return deliveries


def _settled(box: SandboxProcess, webhook_id: str, count: int) -> list[dict[str, Any]]:
    """The webhook's deliveries once ``count`` of them are no longer pending (bounded wait)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = [d for d in _deliveries(box, webhook_id=webhook_id) if d["status"] != "pending"]
        if len(found) >= count:
            return found
        time.sleep(0.05)
    raise AssertionError(f"deliveries of {webhook_id} still pending after {WAIT:.0f} s")


def test_a_send_delivers_signed_events_with_the_custom_header(box: SandboxProcess, handler: Handler) -> None:
    client = box.sdk()
    sender, recipient = _inboxes(client)
    hook = client.webhooks.create(
        url=handler.url,
        event_types=["message.received", "message.sent", "message.delivered"],
        headers={"X-Handler-Token": TOKEN},
    )
    client.inboxes.messages.send(sender, to=recipient, subject="Hello", text="hi")
    events: dict[str, dict[str, Any]] = {}
    for _ in range(3):
        delivery = handler.next()
        svix_verify(hook.secret, delivery.headers, delivery.body)
        assert delivery.headers["x-handler-token"] == TOKEN
        assert delivery.headers["content-type"] == "application/json"
        events[delivery.event["event_type"]] = delivery.event
    received = MessageReceivedEvent.model_validate(events["message.received"])
    sent = MessageSentEvent.model_validate(events["message.sent"])
    delivered = MessageDeliveredEvent.model_validate(events["message.delivered"])
    assert received.type == "event" and received.event_id
    assert (received.message.inbox_id, received.thread.inbox_id, received.message.subject) == (
        recipient,
        recipient,
        "Hello",
    )
    assert (sent.send.inbox_id, sent.send.recipients, delivered.delivery.recipients) == (
        sender,
        [recipient],
        [recipient],
    )
    shown = _settled(box, hook.webhook_id, 3)
    assert {(d["status"], d["response_code"], len(d["attempts"])) for d in shown} == {("delivered", 204, 1)}


def test_a_bounce_and_a_verified_domain_are_delivered(box: SandboxProcess, handler: Handler) -> None:
    client = box.sdk()
    sender, _ = _inboxes(client)
    hook = client.webhooks.create(url=handler.url, event_types=["message.bounced", "domain.verified"])
    client.inboxes.messages.send(sender, to="nobody-at-all@agentmail.to", text="hello?")
    bounce = handler.next()
    svix_verify(hook.secret, bounce.headers, bounce.body)
    bounced = MessageBouncedEvent.model_validate(bounce.event)
    assert bounced.bounce.inbox_id == sender
    assert [r.address for r in bounced.bounce.recipients] == ["nobody-at-all@agentmail.to"]
    client.domains.create(domain="hooked.example", feedback_enabled=False)
    client.domains.verify("hooked.example")
    assert client.domains.get("hooked.example").status == "VERIFIED"  # the read that verifies
    verified = handler.next()
    svix_verify(hook.secret, verified.headers, verified.body)
    assert DomainVerifiedEvent.model_validate(verified.event).domain.domain_id == "hooked.example"


def test_a_failing_handler_gets_retries_until_it_answers(box: SandboxProcess) -> None:
    box.configure(webhook_retry_ms=50)
    handler = Handler(fail_first=2)
    try:
        client = box.sdk()
        sender, _ = _inboxes(client)
        hook = client.webhooks.create(url=handler.url, event_types=["message.sent"])
        client.inboxes.messages.send(sender, to="someone@outside.example", text="x")
        attempts = [handler.next() for _ in range(3)]
        assert len({a.headers["svix-id"] for a in attempts}) == 1  # one message, three attempts
        for attempt in attempts:
            svix_verify(hook.secret, attempt.headers, attempt.body)
        [shown] = _settled(box, hook.webhook_id, 1)
        assert (shown["status"], shown["response_code"]) == ("delivered", 204)
        assert [a["status_code"] for a in shown["attempts"]] == [500, 500, 204]
    finally:
        handler.stop()


def test_disabled_unsubscribed_and_out_of_scope_webhooks_get_nothing(box: SandboxProcess, handler: Handler) -> None:
    client = box.sdk()
    sender, recipient = _inboxes(client)
    other = client.inboxes.create(request=CreateInboxRequest(username="hook-bystander")).inbox_id
    disabled = client.webhooks.create(url=handler.url, event_types=["message.received"])
    client.webhooks.update(disabled.webhook_id, enabled=False)
    unsubscribed = client.webhooks.create(url=handler.url, event_types=["message.bounced"])
    elsewhere = client.inboxes.webhooks.create(other, url=handler.url, event_types=["message.received"])
    barrier = client.inboxes.webhooks.create(recipient, url=handler.url, event_types=["message.received"])
    client.inboxes.messages.send(sender, to=recipient, text="only the barrier hears this")
    # deliveries are recorded in the send's own transaction: the listing is complete already
    recorded = {d["webhook_id"] for d in _deliveries(box)}
    assert recorded == {barrier.webhook_id}
    assert handler.next().headers["svix-id"]
    assert not {disabled.webhook_id, unsubscribed.webhook_id, elsewhere.webhook_id} & recorded
    assert handler.received.empty()


def test_deliveries_switched_off_for_the_organisation_post_nothing(box: SandboxProcess, handler: Handler) -> None:
    box.configure(webhook_deliveries="disabled")
    client = box.sdk()
    sender, _ = _inboxes(client)
    hook = client.webhooks.create(url=handler.url, event_types=["message.sent"])
    client.inboxes.messages.send(sender, to="someone@outside.example", text="x")
    [shown] = _settled(box, hook.webhook_id, 1)
    assert (shown["status"], shown["attempts"]) == ("skipped", [])
    assert handler.received.empty()
