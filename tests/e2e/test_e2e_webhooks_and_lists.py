"""Webhooks and allow/block list entries at organisation, pod and inbox scope, applied against the
served sandbox: created, updated in place, replaced, deleted. Each test checks what the API holds
(through the official SDK) and that a re-plan is clean.

List entries have no mutable attribute (a changed `reason` replaces the entry), so they are
created, replaced and deleted, never updated in place.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from e2e_harness import actions

POD = "e2e-hooks"
INBOX = "e2e-hooks-bot@agentmail.to"
OTHER_INBOX = "e2e-hooks-ops@agentmail.to"
ORG_HOOK, POD_HOOK, INBOX_HOOK = "webhook/audit", f"pod/{POD}/webhook/events", f"pod/{POD}/inbox/{INBOX}/webhook/mine"
ORG_ENTRY = "list/receive/block/spam.example"
POD_ENTRY = f"pod/{POD}/list/send/allow/partner.example"
INBOX_ENTRY = f"pod/{POD}/inbox/{INBOX}/list/receive/block/bad@spam.example"

CONFIG: dict[str, Any] = {
    "version": 1,
    "manage": {"pods": {"client_id_prefix": "e2e-"}},
    "webhooks": {"audit": {"url": "https://hooks.e2e.test/audit", "event_types": ["domain.verified"], "pods": [POD]}},
    "lists": {"receive": {"block": {"spam.example": {"reason": "spam"}}}},
    "pods": {
        POD: {
            "name": "Hooks",
            "webhooks": {
                "events": {"url": "https://hooks.e2e.test/pod", "event_types": ["message.received"], "inboxes": [INBOX]}
            },
            "lists": {"send": {"allow": {"partner.example": {"reason": "partner"}}}},
            "inboxes": {
                INBOX: {
                    "webhooks": {
                        "mine": {
                            "url": "https://hooks.e2e.test/inbox",
                            "event_types": ["message.received", "message.sent"],
                        }
                    },
                    "lists": {"receive": {"block": {"bad@spam.example": {"reason": "abuse"}}}},
                },
                OTHER_INBOX: {},
            },
        }
    },
}


def _config() -> dict[str, Any]:
    return copy.deepcopy(CONFIG)


def _pod(data: dict[str, Any]) -> dict[str, Any]:
    return data["pods"][POD]


def _inbox(data: dict[str, Any]) -> dict[str, Any]:
    return _pod(data)["inboxes"][INBOX]


class Hooks:
    """The webhooks and list entries the API holds at each scope, read through the SDK."""

    def __init__(self, sdk: Any):
        self.sdk = sdk
        self.pod_id = next(p.pod_id for p in sdk.pods.list(limit=100).pods if p.client_id == POD)

    def webhooks(self) -> dict[str, Any]:
        """scope ("org", "pod", "inbox") -> the one webhook there (or None)."""
        org = [w for w in self.sdk.webhooks.list(limit=100).webhooks if not w.pod_id and not w.inbox_id]
        in_pod = self.sdk.pods.webhooks.list(self.pod_id, limit=100).webhooks  # its inboxes' too
        return {
            "org": _one(org),
            "pod": _one([w for w in in_pod if not w.inbox_id]),
            "inbox": _one(self.sdk.inboxes.webhooks.list(INBOX, limit=100).webhooks),
        }

    def entries(self) -> dict[str, list[tuple[str, str | None]]]:
        """scope -> [(entry, reason)] of the list each scope declares."""
        return {
            "org": _rows(self.sdk.lists.list("receive", "block", limit=100)),
            "pod": _rows(self.sdk.pods.lists.list(self.pod_id, "send", "allow", limit=100)),
            "inbox": _rows(self.sdk.inboxes.lists.list(INBOX, "receive", "block", limit=100)),
        }


def _one(rows: list[Any]) -> Any:
    assert len(rows) <= 1, rows
    return rows[0] if rows else None


def _rows(page: Any) -> list[tuple[str, str | None]]:
    return sorted((e.entry, e.reason) for e in page.entries)


@pytest.fixture
def applied(mailctl, sandbox, write_config) -> Hooks:
    mailctl.apply(write_config(_config()))
    return Hooks(sandbox.sdk())


def _apply_and_replan(mailctl, write_config, data: dict[str, Any]) -> dict[str, str]:
    """Apply ``data``; return the actions it planned; assert the re-plan is clean."""
    config = write_config(data)
    planned = actions(mailctl.plan_json(config))
    mailctl.apply(config)
    assert mailctl.plan_json(config)["changes"] == []
    return planned


def test_webhooks_and_list_entries_are_created_at_every_scope(mailctl, write_config, applied: Hooks):
    hooks = applied.webhooks()
    assert (hooks["org"].url, hooks["org"].event_types, hooks["org"].pod_ids) == (
        "https://hooks.e2e.test/audit",
        ["domain.verified"],
        [applied.pod_id],
    )
    assert (hooks["pod"].url, hooks["pod"].event_types, hooks["pod"].inbox_ids) == (
        "https://hooks.e2e.test/pod",
        ["message.received"],
        [INBOX],
    )
    assert hooks["inbox"].url == "https://hooks.e2e.test/inbox"
    assert sorted(hooks["inbox"].event_types) == ["message.received", "message.sent"]
    assert all(h.enabled is not False for h in hooks.values())
    assert applied.entries() == {
        "org": [("spam.example", "spam")],
        "pod": [("partner.example", "partner")],
        "inbox": [("bad@spam.example", "abuse")],
    }
    assert mailctl.plan_json(write_config(_config()))["changes"] == []


def test_webhooks_are_updated_in_place_at_every_scope(mailctl, write_config, applied: Hooks):
    before = {scope: hook.webhook_id for scope, hook in applied.webhooks().items()}
    data = _config()
    data["webhooks"]["audit"].update(event_types=["domain.verified", "message.bounced"], inboxes=[OTHER_INBOX])
    _pod(data)["webhooks"]["events"].update(enabled=False, inboxes=[OTHER_INBOX])
    _inbox(data)["webhooks"]["mine"]["event_types"] = ["message.sent"]

    assert _apply_and_replan(mailctl, write_config, data) == {
        ORG_HOOK: "update",
        POD_HOOK: "update",
        INBOX_HOOK: "update",
    }
    hooks = applied.webhooks()
    assert {scope: hook.webhook_id for scope, hook in hooks.items()} == before  # the same webhooks
    assert sorted(hooks["org"].event_types) == ["domain.verified", "message.bounced"]
    assert (hooks["org"].pod_ids, hooks["org"].inbox_ids) == ([applied.pod_id], [OTHER_INBOX])
    assert (hooks["pod"].enabled, hooks["pod"].inbox_ids) == (False, [OTHER_INBOX])
    assert hooks["inbox"].event_types == ["message.sent"]


def test_a_changed_webhook_url_replaces_the_webhook_at_every_scope(mailctl, write_config, applied: Hooks):
    before = {scope: hook.webhook_id for scope, hook in applied.webhooks().items()}
    data = _config()
    data["webhooks"]["audit"]["url"] = "https://hooks.e2e.test/audit-v2"
    _pod(data)["webhooks"]["events"]["url"] = "https://hooks.e2e.test/pod-v2"
    _inbox(data)["webhooks"]["mine"]["url"] = "https://hooks.e2e.test/inbox-v2"

    assert _apply_and_replan(mailctl, write_config, data) == {
        ORG_HOOK: "replace",
        POD_HOOK: "replace",
        INBOX_HOOK: "replace",
    }
    hooks = applied.webhooks()  # exactly one per scope: the old ones are gone
    assert {scope: hook.url.rsplit("/", 1)[1] for scope, hook in hooks.items()} == {
        "org": "audit-v2",
        "pod": "pod-v2",
        "inbox": "inbox-v2",
    }
    assert all(hooks[scope].webhook_id != before[scope] for scope in before)
    assert (hooks["org"].pod_ids, hooks["pod"].inbox_ids) == ([applied.pod_id], [INBOX])


def test_a_changed_list_entry_reason_replaces_the_entry_at_every_scope(mailctl, write_config, applied: Hooks):
    data = _config()
    data["lists"]["receive"]["block"]["spam.example"]["reason"] = "spam, confirmed"
    _pod(data)["lists"]["send"]["allow"]["partner.example"]["reason"] = "partner since 2024"
    _inbox(data)["lists"]["receive"]["block"]["bad@spam.example"]["reason"] = "abuse | phishing"

    assert _apply_and_replan(mailctl, write_config, data) == {
        ORG_ENTRY: "replace",
        POD_ENTRY: "replace",
        INBOX_ENTRY: "replace",
    }
    assert applied.entries() == {
        "org": [("spam.example", "spam, confirmed")],
        "pod": [("partner.example", "partner since 2024")],
        "inbox": [("bad@spam.example", "abuse | phishing")],
    }


def test_new_list_entries_are_added_beside_the_existing_ones(mailctl, write_config, applied: Hooks):
    data = _config()
    data["lists"]["receive"]["block"]["junk.example"] = None
    _pod(data)["lists"]["send"]["allow"]["friend@partner.example"] = None
    _inbox(data)["lists"]["receive"]["block"]["worse@spam.example"] = {"reason": "abuse"}

    planned = _apply_and_replan(mailctl, write_config, data)
    assert set(planned.values()) == {"create"} and len(planned) == 3
    entries = applied.entries()
    assert [e for e, _ in entries["org"]] == ["junk.example", "spam.example"]
    assert [e for e, _ in entries["pod"]] == ["friend@partner.example", "partner.example"]
    assert [e for e, _ in entries["inbox"]] == ["bad@spam.example", "worse@spam.example"]


def test_undeclared_webhooks_and_list_entries_are_deleted_where_mailctl_manages_them(
    mailctl, write_config, applied: Hooks
):
    data = _config()
    del _pod(data)["webhooks"], _inbox(data)["webhooks"]
    data["lists"] = {}
    _pod(data)["lists"] = {"send": {"allow": {}}}
    _inbox(data)["lists"] = {}

    planned = _apply_and_replan(mailctl, write_config, data)
    assert planned == {
        POD_HOOK: "delete",
        INBOX_HOOK: "delete",
        ORG_ENTRY: "delete",
        POD_ENTRY: "delete",
        INBOX_ENTRY: "delete",
    }
    hooks = applied.webhooks()
    assert hooks["pod"] is None and hooks["inbox"] is None
    assert applied.entries() == {"org": [], "pod": [], "inbox": []}


def test_an_undeclared_org_webhook_is_left_alone_and_listed_as_unmanaged(mailctl, write_config, applied: Hooks):
    data = _config()
    del data["webhooks"]
    plan = mailctl.plan_json(write_config(data))
    assert plan["changes"] == [] and ORG_HOOK in plan["unmanaged"]
    mailctl.apply(write_config(data))
    assert applied.webhooks()["org"].url == "https://hooks.e2e.test/audit"


def test_a_pod_removed_from_the_config_takes_its_webhooks_with_it(mailctl, sandbox, write_config, applied: Hooks):
    data = {**_config(), "webhooks": {}}
    del data["pods"]
    planned = _apply_and_replan(mailctl, write_config, data)
    assert {POD_HOOK: "delete", INBOX_HOOK: "delete", f"pod/{POD}": "delete"}.items() <= planned.items()
    assert set(planned.values()) == {"delete"}
    assert POD not in {p.client_id for p in sandbox.sdk().pods.list(limit=100).pods}


def test_a_webhook_created_disabled_stays_disabled_and_can_be_enabled_again(mailctl, write_config, applied: Hooks):
    data = _config()
    _inbox(data)["webhooks"]["paused"] = {
        "url": "https://hooks.e2e.test/paused",
        "enabled": False,
        "event_types": ["message.received"],
    }
    assert _apply_and_replan(mailctl, write_config, data) == {f"pod/{POD}/inbox/{INBOX}/webhook/paused": "create"}
    (paused,) = [w for w in applied.sdk.inboxes.webhooks.list(INBOX, limit=100).webhooks if w.url.endswith("paused")]
    assert paused.enabled is False

    _inbox(data)["webhooks"]["paused"]["enabled"] = True
    assert _apply_and_replan(mailctl, write_config, data) == {f"pod/{POD}/inbox/{INBOX}/webhook/paused": "update"}
    assert applied.sdk.inboxes.webhooks.get(INBOX, paused.webhook_id).enabled is True


def test_an_org_webhook_drops_one_of_its_pods_and_entries_without_reason_apply(mailctl, write_config, applied: Hooks):
    data = _config()
    data["pods"]["e2e-hooks-two"] = {"name": "Two", "lists": {"receive": {"allow": ["vip@client.example"]}}}
    data["webhooks"]["audit"]["pods"] = [POD, "e2e-hooks-two"]
    planned = _apply_and_replan(mailctl, write_config, data)
    assert (
        planned[ORG_HOOK] == "update" and planned["pod/e2e-hooks-two/list/receive/allow/vip@client.example"] == "create"
    )
    two = next(p.pod_id for p in applied.sdk.pods.list(limit=100).pods if p.client_id == "e2e-hooks-two")
    assert sorted(applied.webhooks()["org"].pod_ids) == sorted([applied.pod_id, two])
    assert _rows(applied.sdk.pods.lists.list(two, "receive", "allow", limit=100)) == [("vip@client.example", None)]

    data["webhooks"]["audit"]["pods"] = ["e2e-hooks-two"]
    assert _apply_and_replan(mailctl, write_config, data) == {ORG_HOOK: "update"}
    assert applied.webhooks()["org"].pod_ids == [two]
