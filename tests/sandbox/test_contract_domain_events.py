"""The `domain.verified` webhook event (spec §7.3, §7.5): recorded once, when a verification
resolves to `VERIFIED`, never for a domain that stays pending, nor again on later reads."""

from __future__ import annotations

from typing import Any

from agentmail import DomainVerifiedEvent
from contract_harness import Sandbox

URL = "https://hooks.example/domains"


def domain_events(sandbox: Sandbox, webhook_id: str) -> list[dict[str, Any]]:
    deliveries = sandbox.control("GET", "deliveries", params={"webhook_id": webhook_id}).json()["deliveries"]
    assert all(d["event_type"] == "domain.verified" for d in deliveries)
    return [d["event"] for d in deliveries]


def test_domain_verified_is_recorded_once_when_verification_succeeds(sandbox: Sandbox) -> None:
    """Deleting the event (or negating `if status == "VERIFIED"` before it) recorded no
    `domain.verified` at all; deleting the write of the resolved status re-resolved the domain on
    every read and recorded the event again each time."""
    sandbox.configure(webhook_deliveries="disabled")
    hook = sandbox.client.webhooks.create(url=URL, event_types=["domain.verified"])
    sandbox.client.domains.create(domain="announced.example")
    sandbox.client.domains.verify("announced.example")
    assert sandbox.client.domains.get("announced.example").status == "VERIFIED"
    sandbox.client.domains.get("announced.example")
    sandbox.client.domains.verify("announced.example")
    sandbox.client.domains.get("announced.example")
    events = domain_events(sandbox, hook.webhook_id)
    assert len(events) == 1
    event = DomainVerifiedEvent.model_validate(events[0])
    assert (event.domain.domain_id, event.domain.status, event.domain.reason) == ("announced.example", "VERIFIED", None)


def test_a_verification_left_pending_records_no_event(sandbox: Sandbox) -> None:
    """Negating `if status == "VERIFIED"` recorded `domain.verified` for a domain whose records
    were missing and which stayed `PENDING`."""
    sandbox.configure(webhook_deliveries="disabled", domain_verification="manual")
    hook = sandbox.client.webhooks.create(url=URL, event_types=["domain.verified"])
    sandbox.client.domains.create(domain="quiet.example")
    sandbox.client.domains.verify("quiet.example")
    assert sandbox.client.domains.get("quiet.example").status == "PENDING"
    assert domain_events(sandbox, hook.webhook_id) == []
