"""Webhook rules (spec §7.5, §11 Q11/Q13/Q24): validation helpers and the scoped behaviours."""

from __future__ import annotations

import pytest
from agentmail.webhooks.types import Webhook
from mail_rig import Rig

from mailctl.sandbox.backend.core import SandboxError
from mailctl.sandbox.backend.webhook_rules import apply_id_changes, check_event_types, check_url, merge_headers

URL = "https://hooks.example.com/in"


@pytest.fixture
def rig() -> Rig:
    return Rig()


@pytest.mark.parametrize("url", ["http://localhost:8080/hook", "https://example.com", "http://127.0.0.1/x?a=1"])
def test_absolute_http_urls_are_accepted(url: str) -> None:
    assert check_url(url) == url


@pytest.mark.parametrize(
    "url", ["ftp://example.com", "/relative", "https://", "example.com/x", "https://a b.com", "http://h:notaport/"]
)
def test_other_urls_are_400(url: str) -> None:
    with pytest.raises(SandboxError) as info:
        check_url(url)
    assert (info.value.status, info.value.errors[0]["path"]) == (400, "url")  # type: ignore[index]


def test_event_types_are_deduplicated_and_unknown_ones_rejected() -> None:
    assert check_event_types(["message.sent", "message.sent", "domain.verified"], required=True) == [
        "message.sent",
        "domain.verified",
    ]
    assert check_event_types([], required=False) is None
    for values, required in ((["message.nope"], False), ([], True)):
        with pytest.raises(SandboxError):
            check_event_types(values, required=required)


def test_header_patch_replaces_case_insensitively_and_refuses_set_plus_remove() -> None:
    assert merge_headers({"X-Token": "a", "X-Old": "b"}, {"x-token": "c"}, ["X-OLD"]) == {"x-token": "c"}
    with pytest.raises(SandboxError):
        merge_headers({}, {"X-A": "1"}, ["x-a"])


def test_subscription_changes_are_set_operations() -> None:
    assert apply_id_changes(["a", "b"], ["c", "a"], ["b"], "pod_ids") == ["a", "c"]
    with pytest.raises(SandboxError):
        apply_id_changes([], ["a"], ["a"], "pod_ids")


def test_scoped_webhook_must_keep_one_subscription(rig: Rig) -> None:
    pod = rig.pod()
    hook = rig.ok("POST", "/v0/webhooks", {"url": URL, "event_types": ["message.sent"], "pod_ids": [pod]})
    rig.error(
        rig.call("PATCH", f"/v0/webhooks/{hook['webhook_id']}", {"remove_pod_ids": [pod]}), 400, "validation_error"
    )
    inbox = rig.inbox("a")
    swapped = rig.ok("PATCH", f"/v0/webhooks/{hook['webhook_id']}", {"add_inbox_ids": [inbox], "remove_pod_ids": [pod]})
    assert (swapped["pod_ids"], swapped["inbox_ids"]) == ([], [inbox])
    Webhook.model_validate(swapped)


def test_adding_subscriptions_to_an_org_wide_webhook_changes_nothing(rig: Rig) -> None:
    hook = rig.ok("POST", "/v0/webhooks", {"url": URL, "event_types": ["message.sent"]})
    after = rig.ok("PATCH", f"/v0/webhooks/{hook['webhook_id']}", {"add_pod_ids": [rig.pod()]})
    assert "pod_ids" not in after and after["updated_at"] == hook["updated_at"]


def test_at_most_ten_pods_and_only_known_ones(rig: Rig) -> None:
    pods = [rig.pod(f"p{i}") for i in range(11)]
    rig.error(
        rig.call("POST", "/v0/webhooks", {"url": URL, "event_types": ["message.sent"], "pod_ids": pods}),
        400,
        "validation_error",
    )
    rig.error(
        rig.call("POST", "/v0/webhooks", {"url": URL, "event_types": ["message.sent"], "pod_ids": ["nope"]}),
        400,
        "validation_error",
    )


def test_scope_specific_fields_are_refused(rig: Rig) -> None:
    pod, inbox = rig.pod(), rig.inbox("a")
    body = {"url": URL, "event_types": ["message.sent"]}
    rig.error(rig.call("POST", f"/v0/pods/{pod}/webhooks", {**body, "pod_ids": [pod]}), 400, "validation_error")
    rig.error(
        rig.call("POST", f"/v0/inboxes/{inbox}/webhooks", {**body, "inbox_ids": [inbox]}), 400, "validation_error"
    )
    other = rig.inbox("b")  # in the Default Pod, not in `pod`
    rig.error(rig.call("POST", f"/v0/pods/{pod}/webhooks", {**body, "inbox_ids": [other]}), 400, "validation_error")


def test_client_id_replay_returns_the_original_and_is_scope_bound(rig: Rig) -> None:
    pod, other = rig.pod("one"), rig.pod("two")
    body = {"url": URL, "event_types": ["message.sent"], "client_id": "hook-1"}
    first = rig.ok("POST", f"/v0/pods/{pod}/webhooks", body)
    again = rig.ok("POST", f"/v0/pods/{pod}/webhooks", {**body, "url": "https://other.example.com"})
    assert again == first
    rig.error(rig.call("POST", f"/v0/pods/{other}/webhooks", body), 403, "already_exists")


def test_pod_delete_cascades_its_webhooks_and_subscriptions(rig: Rig) -> None:
    pod, keep = rig.pod("gone"), rig.pod("kept")
    own = rig.ok("POST", f"/v0/pods/{pod}/webhooks", {"url": URL, "event_types": ["message.sent"]})
    org = rig.ok("POST", "/v0/webhooks", {"url": URL, "event_types": ["message.sent"], "pod_ids": [pod, keep]})
    rig.ok("DELETE", f"/v0/pods/{pod}")
    rig.error(rig.call("GET", f"/v0/webhooks/{own['webhook_id']}"), 404, "not_found")
    assert rig.ok("GET", f"/v0/webhooks/{org['webhook_id']}")["pod_ids"] == [keep]


def test_inbox_delete_never_widens_a_scoped_webhook(rig: Rig) -> None:
    inbox = rig.inbox("solo")
    hook = rig.ok("POST", "/v0/webhooks", {"url": URL, "event_types": ["message.sent"], "inbox_ids": [inbox]})
    rig.ok("DELETE", f"/v0/inboxes/{inbox}")
    assert rig.ok("GET", f"/v0/webhooks/{hook['webhook_id']}")["inbox_ids"] == []


def test_reenabling_a_spam_webhook_needs_the_label_permission(rig: Rig) -> None:
    hook = rig.ok("POST", "/v0/webhooks", {"url": URL, "event_types": ["message.received.spam"]})
    key = rig.key(permissions={"webhook_read": True, "webhook_update": True})
    rig.ok("PATCH", f"/v0/webhooks/{hook['webhook_id']}", {"enabled": False}, key=key)
    rig.error(
        rig.call("PATCH", f"/v0/webhooks/{hook['webhook_id']}", {"enabled": True}, key=key), 403, "missing_permission"
    )


def test_scoped_keys_see_only_their_own_webhooks(rig: Rig) -> None:
    pod = rig.pod()
    inbox = rig.inbox("a", pod)
    rig.ok("POST", "/v0/webhooks", {"url": URL, "event_types": ["message.sent"]})
    mine = rig.ok("POST", f"/v0/inboxes/{inbox}/webhooks", {"url": URL, "event_types": ["message.sent"]})
    inbox_key = rig.key(f"/inboxes/{inbox}")
    listed = rig.ok("GET", "/v0/webhooks", key=inbox_key)["webhooks"]
    assert [h["webhook_id"] for h in listed] == [mine["webhook_id"]]
    assert mine["pod_id"] == pod and mine["inbox_id"] == inbox
    via_org_route = rig.ok("POST", "/v0/webhooks", {"url": URL, "event_types": ["message.sent"]}, key=inbox_key)
    assert via_org_route["inbox_id"] == inbox  # §11 Q12: lands in the key's own scope


def test_polling_paths_are_not_captured_as_webhook_ids(rig: Rig) -> None:
    body = rig.error(rig.call("GET", "/v0/webhooks/polling"), 404, "not_found")
    assert "not emulated" in body["message"]
