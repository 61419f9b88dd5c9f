"""Webhook events (spec §7.5, issue 20): which webhooks an event reaches, the event body the SDK's
``agentmail.events`` models parse, and one ``webhook_delivery`` row per webhook reached.

The rows are the outbox: written in the transaction that made the event (a rolled-back send
delivers nothing), sent later by the worker in ``mailctl.sandbox.webhook_worker``, which records
each attempt back on the row. Row layout: id = the Svix message id (``msg_...``), ``ref`` =
``pending`` until the delivery is settled, then ``done``; the body holds the webhook id, the event
(``payload``), ``status``, ``attempts`` and ``next_attempt`` (epoch seconds).

Who gets what (the webhook's scope, then its subscriptions):
- an inbox webhook: events of its inbox;
- a pod webhook: events of its pod's inboxes (only its ``inbox_ids`` if it has any), and
  ``domain.verified`` for its pod's domains;
- an org webhook: every event of the organisation; with ``pod_ids`` / ``inbox_ids``, only events
  of those pods and inboxes (a domain event matches its pod).
A disabled webhook, or one whose ``event_types`` lacks the event, gets nothing.
"""

from __future__ import annotations

import secrets
from typing import Any

from mailctl.sandbox.backend.core import Row, Tx, now
from mailctl.sandbox.backend.webhooks import WEBHOOK

WEBHOOK_DELIVERY = "webhook_delivery"
PENDING, DONE = "pending", "done"


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def new_delivery_id() -> str:
    return "msg_" + secrets.token_hex(12)


def covers(hook: Row, pod_id: str | None, inbox_id: str | None) -> bool:
    """Whether ``hook``'s scope and subscriptions cover an event of this pod / inbox."""
    pods, inboxes = hook.body.get("pod_ids"), hook.body.get("inbox_ids")
    if hook.inbox:
        return inbox_id == hook.inbox
    if hook.pod and pod_id != hook.pod:
        return False
    if pods is None and inboxes is None:  # the whole scope
        return True
    return (pod_id is not None and pod_id in (pods or [])) or (inbox_id is not None and inbox_id in (inboxes or []))


def emit(
    tx: Tx, org: str, event_type: str, payload: dict[str, Any], *, pod_id: str | None, inbox_id: str | None = None
) -> int:
    """Record one delivery of the event per enabled, subscribed webhook covering it; how many."""
    event = {"type": "event", "event_type": event_type, "event_id": new_event_id(), **payload}
    count = 0
    for hook in tx.find(WEBHOOK, org=org):
        if not hook.body["enabled"] or event_type not in hook.body["event_types"]:
            continue
        if not covers(hook, pod_id, inbox_id):
            continue
        body = {
            "webhook_id": hook.id,
            "event_type": event_type,
            "event_id": event["event_id"],
            "payload": event,
            "status": PENDING,
            "attempts": [],
            "next_attempt": 0.0,  # due at once; the worker's clock sets later ones
        }
        tx.insert(WEBHOOK_DELIVERY, new_delivery_id(), org=org, ref=PENDING, body=body, created_at=now())
        count += 1
    return count


# ---------------------------------------------------------------------------------------------
# The events the sandbox generates


def _mail_fields(message: Row) -> dict[str, Any]:
    body = message.body
    return {
        "inbox_id": message.inbox,
        "thread_id": body["thread_id"],
        "message_id": body["message_id"],
        "timestamp": body["timestamp"],
    }


def message_sent(tx: Tx, sent: Row, recipients: list[str]) -> None:
    send = {**_mail_fields(sent), "recipients": recipients}
    emit(tx, sent.org, "message.sent", {"send": send}, pod_id=sent.pod, inbox_id=sent.inbox)


def message_delivered(tx: Tx, sent: Row, recipients: list[str]) -> None:
    if recipients:
        delivery = {**_mail_fields(sent), "recipients": recipients}
        emit(tx, sent.org, "message.delivered", {"delivery": delivery}, pod_id=sent.pod, inbox_id=sent.inbox)


def message_bounced(tx: Tx, sent: Row, recipients: list[str]) -> None:
    if recipients:
        bounce = {
            **_mail_fields(sent),
            "type": "Permanent",
            "sub_type": "NoEmail",
            "recipients": [{"address": a, "status": "5.1.1"} for a in recipients],
        }
        emit(tx, sent.org, "message.bounced", {"bounce": bounce}, pod_id=sent.pod, inbox_id=sent.inbox)


def message_received(tx: Tx, received: Row, blocked: bool) -> None:
    # imported here: messages and threads import the mail modules that call this one
    from mailctl.sandbox.backend import messages, threads
    from mailctl.sandbox.backend.mailbox import MESSAGE, THREAD

    thread = tx.get(THREAD, received.body["thread_id"])
    if thread is None:
        return
    rows = tx.find(MESSAGE, ref=thread.id)
    payload = {"message": messages.render(received), "thread": threads.summarize(thread, rows)}
    event_type = "message.received.blocked" if blocked else "message.received"
    emit(tx, received.org, event_type, payload, pod_id=received.pod, inbox_id=received.inbox)


def domain_verified(tx: Tx, domain: Row, rendered: dict[str, Any]) -> None:
    emit(tx, domain.org, "domain.verified", {"domain": rendered}, pod_id=domain.pod)


def render(row: Row) -> dict[str, Any]:
    """One delivery as ``GET /_sandbox/deliveries`` shows it."""
    body = row.body
    return {
        "delivery_id": row.id,
        "webhook_id": body["webhook_id"],
        "event_type": body["event_type"],
        "event_id": body["event_id"],
        "status": body["status"],
        "attempts": list(body["attempts"]),
        "response_code": next((a["status_code"] for a in reversed(body["attempts"]) if a["status_code"]), None),
        "created_at": row.created_at,
        "event": body["payload"],
    }
