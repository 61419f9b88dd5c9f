"""Webhook events: which webhooks an event reaches (scope, subscriptions, ``enabled``,
``event_types``) and the bodies of ``message.received`` (``.blocked``), ``message.delivered`` and
``message.bounced`` as the SDK's ``agentmail.events`` models parse them (spec §7.5). Deliveries
are read back from ``GET /_sandbox/deliveries`` with delivery switched off, so every recorded row
stays visible. Each test pins a line of ``sandbox/backend/events.py`` that the mutation sweep
(``.ci/mutate.py --sweep``) found no contract test depending on."""

from __future__ import annotations

from typing import Any

from agentmail import MessageBouncedEvent, MessageDeliveredEvent, MessageReceivedEvent, MessageSentEvent
from agentmail.inboxes import CreateInboxRequest
from contract_harness import Sandbox
from mail_helpers import OUTSIDE

URL = "https://hooks.example/events"
RECEIVED = ["message.received"]


def _inbox(sandbox: Sandbox, username: str, pod: str | None = None) -> str:
    if pod is not None:
        return str(sandbox.client.pods.inboxes.create(pod, username=f"esweep-{username}").inbox_id)
    return str(sandbox.client.inboxes.create(request=CreateInboxRequest(username=f"esweep-{username}")).inbox_id)


def _pod(sandbox: Sandbox, name: str) -> str:
    return str(sandbox.client.pods.create(name=f"esweep-{name}").pod_id)


def _events(sandbox: Sandbox, webhook_id: str) -> list[dict[str, Any]]:
    """The events recorded for ``webhook_id``, oldest first."""
    shown = sandbox.control("GET", "deliveries", params={"webhook_id": webhook_id}).json()["deliveries"]
    assert all(d["webhook_id"] == webhook_id and d["event_type"] == d["event"]["event_type"] for d in shown)
    return [d["event"] for d in reversed(shown)]


def _received_by(sandbox: Sandbox, webhook_id: str) -> list[str]:
    """The inboxes whose ``message.received`` events reached ``webhook_id``."""
    events = [MessageReceivedEvent.model_validate(e) for e in _events(sandbox, webhook_id)]
    assert all(e.event_type == "message.received" for e in events)
    return sorted(e.message.inbox_id for e in events)


def _mail(sandbox: Sandbox, sender: str, *to: str) -> None:
    sandbox.client.inboxes.messages.send(sender, to=list(to), subject="events", text="hello")


# ---------------------------------------------------------------------------------------------
# Who gets an event: scope and subscriptions (``covers``, the loop in ``emit``)


def test_an_inbox_webhook_hears_only_its_own_inbox(sandbox: Sandbox) -> None:
    """Without ``return inbox_id == hook.inbox``, an inbox webhook (which belongs to its inbox's
    pod) heard every inbox of that pod: here the sibling's mail too."""
    sandbox.configure(webhook_deliveries="disabled")
    pod = _pod(sandbox, "inboxes")
    own, sibling, sender = (_inbox(sandbox, n, pod) for n in ("own", "sibling", "sender"))
    hook = sandbox.client.inboxes.webhooks.create(own, url=URL, event_types=RECEIVED)
    _mail(sandbox, sender, own, sibling)
    assert _received_by(sandbox, hook.webhook_id) == [own]


def test_a_pod_webhook_hears_nothing_of_another_pod(sandbox: Sandbox) -> None:
    """Without ``return False`` for an event of another pod, a pod webhook covering its whole pod
    heard every pod of the organisation."""
    sandbox.configure(webhook_deliveries="disabled")
    mine, theirs = _pod(sandbox, "mine"), _pod(sandbox, "theirs")
    home, away = _inbox(sandbox, "home", mine), _inbox(sandbox, "away", theirs)
    sender = _inbox(sandbox, "sender", theirs)
    hook = sandbox.client.pods.webhooks.create(mine, url=URL, event_types=RECEIVED)
    every = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED)
    _mail(sandbox, sender, home, away)
    assert _received_by(sandbox, every.webhook_id) == sorted([home, away])
    assert _received_by(sandbox, hook.webhook_id) == [home]


def test_an_org_webhook_with_subscriptions_hears_exactly_the_listed_pods_and_inboxes(sandbox: Sandbox) -> None:
    """Without the subscription test (the last ``return`` of ``covers``), an org webhook with
    ``pod_ids`` / ``inbox_ids`` heard nothing at all; with the ``covers`` check skipped in
    ``emit`` it heard every inbox (spec §7.5: an event matching any listed pod or inbox)."""
    sandbox.configure(webhook_deliveries="disabled")
    listed_pod, other_pod = _pod(sandbox, "listed"), _pod(sandbox, "other")
    in_pod = _inbox(sandbox, "in-pod", listed_pod)
    listed_inbox = _inbox(sandbox, "listed-inbox", other_pod)
    unlisted, sender = _inbox(sandbox, "unlisted", other_pod), _inbox(sandbox, "sender", other_pod)
    by_pod = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED, pod_ids=[listed_pod])
    by_inbox = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED, inbox_ids=[listed_inbox])
    both = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED, pod_ids=[listed_pod], inbox_ids=[listed_inbox])
    every = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED)
    _mail(sandbox, sender, in_pod, listed_inbox, unlisted)
    assert _received_by(sandbox, every.webhook_id) == sorted([in_pod, listed_inbox, unlisted])
    assert _received_by(sandbox, by_pod.webhook_id) == [in_pod]
    assert _received_by(sandbox, by_inbox.webhook_id) == [listed_inbox]
    assert _received_by(sandbox, both.webhook_id) == sorted([in_pod, listed_inbox])


def test_a_disabled_or_unsubscribed_webhook_hears_nothing(sandbox: Sandbox) -> None:
    """Without the ``continue`` for a disabled webhook or an event type it does not list, both
    got the event; the subscribed, enabled one still gets exactly one."""
    sandbox.configure(webhook_deliveries="disabled")
    sender, recipient = _inbox(sandbox, "sender"), _inbox(sandbox, "recipient")
    disabled = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED)
    sandbox.client.webhooks.update(disabled.webhook_id, enabled=False)
    unsubscribed = sandbox.client.webhooks.create(url=URL, event_types=["message.bounced"])
    listening = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED)
    _mail(sandbox, sender, recipient)
    assert _events(sandbox, disabled.webhook_id) == []
    assert _events(sandbox, unsubscribed.webhook_id) == []
    assert _received_by(sandbox, listening.webhook_id) == [recipient]


# ---------------------------------------------------------------------------------------------
# The event bodies


def test_message_received_carries_the_message_and_its_thread(sandbox: Sandbox) -> None:
    """Without any of the lines building ``message.received`` (the thread, its messages, the
    payload, the event type, the ``emit``), no event was recorded or the send failed."""
    sandbox.configure(webhook_deliveries="disabled")
    sender, recipient = _inbox(sandbox, "sender"), _inbox(sandbox, "recipient")
    hook = sandbox.client.inboxes.webhooks.create(recipient, url=URL, event_types=RECEIVED)
    _mail(sandbox, sender, recipient)
    [raw] = _events(sandbox, hook.webhook_id)
    event = MessageReceivedEvent.model_validate(raw)
    [copy] = sandbox.client.inboxes.messages.list(recipient).messages
    assert (event.type, event.event_type, event.event_id.startswith("evt_")) == ("event", "message.received", True)
    assert (event.message.inbox_id, event.message.message_id, event.message.subject) == (
        recipient,
        copy.message_id,
        "events",
    )
    assert (event.thread.thread_id, event.thread.message_count) == (copy.thread_id, 1)


def test_a_blocked_message_is_message_received_blocked_only(sandbox: Sandbox) -> None:
    """The event type follows the ``blocked`` label: a receive-blocked copy is announced as
    ``message.received.blocked`` (never implied by ``message.received``, spec §7.5)."""
    sandbox.configure(webhook_deliveries="disabled")
    sender, recipient = _inbox(sandbox, "sender"), _inbox(sandbox, "recipient")
    sandbox.client.lists.create("receive", "block", entry=sender)
    plain = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED)
    blocked = sandbox.client.webhooks.create(url=URL, event_types=["message.received.blocked"])
    _mail(sandbox, sender, recipient)
    assert _events(sandbox, plain.webhook_id) == []
    [raw] = _events(sandbox, blocked.webhook_id)
    event = MessageReceivedEvent.model_validate(raw)
    assert (event.event_type, event.message.inbox_id) == ("message.received.blocked", recipient)
    assert "blocked" in event.message.labels


def test_message_delivered_names_the_inboxes_reached_and_only_when_there_are_some(sandbox: Sandbox) -> None:
    """Without the ``message.delivered`` event (or with its ``if recipients`` negated) a send
    reaching a sandbox inbox was not announced, and a send reaching none (only an outside
    address, delivered nowhere) was announced with no recipients."""
    sandbox.configure(webhook_deliveries="disabled")
    sender, recipient = _inbox(sandbox, "sender"), _inbox(sandbox, "recipient")
    hook = sandbox.client.webhooks.create(url=URL, event_types=["message.delivered", "message.sent"])
    sandbox.client.inboxes.messages.send(sender, to=[recipient, OUTSIDE], text="first")
    sandbox.client.inboxes.messages.send(sender, to=[OUTSIDE], text="second")
    events = _events(sandbox, hook.webhook_id)
    assert [e["event_type"] for e in events] == ["message.sent", "message.delivered", "message.sent"]
    sent = MessageSentEvent.model_validate(events[0])
    delivered = MessageDeliveredEvent.model_validate(events[1])
    assert delivered.delivery.recipients == [recipient]
    assert (delivered.delivery.inbox_id, delivered.delivery.message_id, delivered.delivery.thread_id) == (
        sender,
        sent.send.message_id,
        sent.send.thread_id,
    )


def test_message_bounced_names_the_bounced_addresses_and_only_when_there_are_some(sandbox: Sandbox) -> None:
    """Without the ``message.bounced`` event (or with its ``if recipients`` negated) a send to a
    sandbox-hosted address with no inbox was not announced, and a send that bounced nothing was
    announced with no recipients."""
    sandbox.configure(webhook_deliveries="disabled")
    sender, recipient = _inbox(sandbox, "sender"), _inbox(sandbox, "recipient")
    hook = sandbox.client.webhooks.create(url=URL, event_types=["message.bounced"])
    nobody = "esweep-nobody-here@agentmail.to"
    sandbox.client.inboxes.messages.send(sender, to=[recipient], text="fine")
    sandbox.client.inboxes.messages.send(sender, to=[nobody, recipient], text="half bounces")
    [raw] = _events(sandbox, hook.webhook_id)
    event = MessageBouncedEvent.model_validate(raw)
    assert (event.bounce.inbox_id, event.bounce.type, event.bounce.sub_type) == (sender, "Permanent", "NoEmail")
    assert [(r.address, r.status) for r in event.bounce.recipients] == [(nobody, "5.1.1")]
