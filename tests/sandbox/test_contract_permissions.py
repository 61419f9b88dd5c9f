"""Each right a key can lack is checked where it is needed (spec §3.2): a key holding every flag
but one gets 403 `missing_permission` from the routes that need that one, and nothing changes.

All flags but one, so that each check must be there on its own: a key missing many flags would
be refused by whichever check comes first, and a deleted check would go unnoticed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from agentmail import AgentMail, ApiKeyPermissions, CreateBearerApiKeyRequest
from contract_harness import Sandbox, raises_api_error

OPT_IN = {"agent_armor_release", "app_connect"}  # §3.2: never held unless granted
BLOCKED = "blocked@example.com"


class World:
    """A pod, an inbox, a domain, a webhook and a block-list entry to act on."""

    def __init__(self, sandbox: Sandbox):
        c = sandbox.client
        self.empty_pod = c.pods.create(name="empty").pod_id
        self.inbox = c.inboxes.create().inbox_id
        self.domain = c.domains.create(domain="perms.example").domain_id
        self.webhook = c.webhooks.create(url="https://hooks.example/p", event_types=["message.received"]).webhook_id
        c.lists.create("receive", "block", entry=BLOCKED)

    def snapshot(self, c: AgentMail) -> Any:
        return (
            sorted(p.pod_id for p in c.pods.list(limit=100).pods),
            sorted((i.inbox_id, i.display_name) for i in c.inboxes.list(limit=100).inboxes),
            sorted((d.domain_id, d.feedback_enabled) for d in c.domains.list(limit=100).domains),
            sorted((w.webhook_id, w.enabled) for w in c.webhooks.list(limit=100).webhooks),
            sorted(e.entry for e in c.lists.list("receive", "block", limit=100).entries),
        )


Call = Callable[[AgentMail, World], Any]
CALLS: dict[str, tuple[Call, ...]] = {
    "pod_read": (lambda k, w: k.pods.list(), lambda k, w: k.pods.get(w.empty_pod)),
    "pod_create": (lambda k, w: k.pods.create(name="more"),),
    "pod_delete": (lambda k, w: k.pods.delete(w.empty_pod),),
    "inbox_read": (
        lambda k, w: k.inboxes.list(),
        lambda k, w: k.inboxes.get(w.inbox),
        lambda k, w: k.pods.inboxes.list(w.empty_pod),
        lambda k, w: k.inboxes.search(q="x"),
        lambda k, w: k.pods.inboxes.search(w.empty_pod, q="x"),
    ),
    "inbox_create": (lambda k, w: k.inboxes.create(),),
    "inbox_update": (lambda k, w: k.inboxes.update(w.inbox, display_name="Renamed"),),
    "inbox_delete": (lambda k, w: k.inboxes.delete(w.inbox),),
    "domain_read": (
        lambda k, w: k.domains.list(),
        lambda k, w: k.domains.get(w.domain),
        lambda k, w: b"".join(k.domains.get_zone_file(w.domain)),  # what `mailctl dns` reads (a lazy stream)
    ),
    "domain_create": (lambda k, w: k.domains.create(domain="more.example"),),
    "domain_update": (
        lambda k, w: k.domains.update(w.domain, feedback_enabled=False),
        lambda k, w: k.domains.verify(w.domain),
    ),
    "domain_delete": (lambda k, w: k.domains.delete(w.domain),),
    "webhook_read": (
        lambda k, w: k.webhooks.list(),
        lambda k, w: k.webhooks.get(w.webhook),
        lambda k, w: k.webhooks.get_headers(w.webhook),
    ),
    "webhook_create": (lambda k, w: k.webhooks.create(url="https://hooks.example/q", event_types=["message.sent"]),),
    "webhook_update": (lambda k, w: k.webhooks.update(w.webhook, enabled=False),),
    "webhook_delete": (lambda k, w: k.webhooks.delete(w.webhook),),
    "list_entry_read": (
        lambda k, w: k.lists.list("receive", "block"),
        lambda k, w: k.lists.get("receive", "block", BLOCKED),
    ),
    "list_entry_create": (lambda k, w: k.lists.create("receive", "block", entry="more@example.com"),),
    "list_entry_delete": (lambda k, w: k.lists.delete("receive", "block", BLOCKED),),
    # what an inbox holds, counted before deleting it (threads, messages, drafts)
    "message_read": (lambda k, w: k.inboxes.messages.list(w.inbox), lambda k, w: k.inboxes.threads.list(w.inbox)),
    "draft_read": (lambda k, w: k.inboxes.drafts.list(w.inbox),),
}
CASES = [
    pytest.param(flag, call, id=f"{flag}-{i}") for flag, calls in sorted(CALLS.items()) for i, call in enumerate(calls)
]


@pytest.mark.parametrize(("flag", "call"), CASES)
def test_a_key_lacking_one_flag_is_refused_where_that_flag_is_needed(sandbox: Sandbox, flag: str, call: Call) -> None:
    world = World(sandbox)
    others = {f: True for f in ApiKeyPermissions.model_fields if f not in OPT_IN and f != flag}
    key = sandbox.client.api_keys.create(request=CreateBearerApiKeyRequest(name=f"all-but-{flag}", permissions=others))
    before = world.snapshot(sandbox.client)
    with raises_api_error(403, "missing_permission"):
        call(sandbox.sdk(key.api_key), world)
    assert world.snapshot(sandbox.client) == before
