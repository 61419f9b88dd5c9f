"""Webhook PATCH bodies and header PATCHes: what is refused, and what a change leaves behind
(spec §7.5, §3.2, §11 Q11, Q18). Each test pins a line of ``sandbox/backend/webhooks.py`` (or
``webhook_rules.py``) that the mutation sweep (``.ci/mutate.py --sweep``) found no other test depending on."""

from __future__ import annotations

import time
from typing import Any

import httpx
from agentmail import ApiKeyPermissions, CreateBearerApiKeyRequest
from agentmail.webhooks import Webhook, WebhookHeaderNamesResponse
from contract_harness import ORG_KEY, Sandbox, auth

URL = "https://hooks.example/agentmail"
RECEIVED = ["message.received"]


def _create(sandbox: Sandbox, base: str, **fields: Any) -> Webhook:
    response = sandbox.http.post(base, json={"url": URL, "event_types": RECEIVED, **fields}, headers=auth(ORG_KEY))
    assert response.status_code == 200, response.text
    return Webhook.model_validate(response.json())


def _read(sandbox: Sandbox, path: str) -> Webhook:
    response = sandbox.http.get(path, headers=auth(ORG_KEY))
    assert response.status_code == 200, response.text
    return Webhook.model_validate(response.json())


def _patch(sandbox: Sandbox, path: str, body: dict[str, Any], key: str = ORG_KEY) -> httpx.Response:
    return sandbox.http.patch(path, json=body, headers=auth(key))


def _refused(response: httpx.Response, path: str) -> None:
    """A 400 ``validation_error`` naming the offending field."""
    body = response.json()
    assert (response.status_code, body["name"], body["code"]) == (400, "ValidationError", "validation_error"), body
    assert body["errors"][0]["path"] == path, body


def _tick() -> None:
    """Timestamps have millisecond precision: let one pass so a bumped ``updated_at`` differs."""
    time.sleep(0.005)


# ---------------------------------------------------------------------------------------------
# PATCH /webhooks/{id}: refused bodies change nothing


def test_null_enabled_or_event_types_is_400_and_changes_nothing(sandbox: Sandbox) -> None:
    """Without ``reject_nulls`` an explicit null was read as "omitted" and answered 200 (§11 Q18)."""
    hook = _create(sandbox, "/v0/webhooks")
    path = f"/v0/webhooks/{hook.webhook_id}"
    _refused(_patch(sandbox, path, {"enabled": None}), "enabled")
    _refused(_patch(sandbox, path, {"event_types": None}), "event_types")
    assert _read(sandbox, path) == hook


def _pod_webhook(sandbox: Sandbox) -> tuple[str, Webhook, str]:
    """A webhook on pod "owner"'s route subscribed to one of its inboxes, its path, and the id of
    a second pod ("other")."""
    pods = sandbox.client.pods
    pod, other = pods.create(name="owner").pod_id, pods.create(name="other").pod_id
    inbox = pods.inboxes.create(pod, username="member").inbox_id
    hook = _create(sandbox, f"/v0/pods/{pod}/webhooks", inbox_ids=[inbox])
    return f"/v0/pods/{pod}/webhooks/{hook.webhook_id}", hook, other


def test_a_pod_webhook_refuses_pod_subscription_changes(sandbox: Sandbox) -> None:
    """Without the pod-scope check ``add_pod_ids`` on a pod webhook was silently ignored (200)."""
    path, hook, other = _pod_webhook(sandbox)
    _refused(_patch(sandbox, path, {"add_pod_ids": [other]}), "add_pod_ids")
    assert _read(sandbox, path) == hook


def test_an_inbox_webhook_refuses_inbox_subscription_changes(sandbox: Sandbox) -> None:
    """Without the inbox-scope check ``add_inbox_ids`` on an inbox webhook was silently ignored (200)."""
    inbox, other = sandbox.client.inboxes.create().inbox_id, sandbox.client.inboxes.create().inbox_id
    base = f"/v0/inboxes/{inbox}/webhooks"
    hook = _create(sandbox, base)
    _refused(_patch(sandbox, f"{base}/{hook.webhook_id}", {"add_inbox_ids": [other]}), "add_inbox_ids")
    assert _read(sandbox, f"{base}/{hook.webhook_id}") == hook


def test_adding_an_unknown_pod_is_400_and_changes_nothing(sandbox: Sandbox) -> None:
    """Without the check on ``add_pod_ids`` a made-up pod id was stored as a subscription."""
    pod = sandbox.client.pods.create(name="known").pod_id
    hook = _create(sandbox, "/v0/webhooks", pod_ids=[pod])
    path = f"/v0/webhooks/{hook.webhook_id}"
    _refused(_patch(sandbox, path, {"add_pod_ids": ["no-such-pod"]}), "add_pod_ids[0]")
    assert _read(sandbox, path) == hook


def test_adding_an_inbox_of_another_pod_to_a_pod_webhook_is_400(sandbox: Sandbox) -> None:
    """Without the check on ``add_inbox_ids`` a pod webhook could subscribe to another pod's inbox."""
    path, hook, other = _pod_webhook(sandbox)
    theirs = sandbox.client.pods.inboxes.create(other, username="theirs").inbox_id
    _refused(_patch(sandbox, path, {"add_inbox_ids": [theirs]}), "add_inbox_ids[0]")
    assert _read(sandbox, path) == hook


def test_update_cannot_push_a_webhook_past_ten_pods(sandbox: Sandbox) -> None:
    """Without the cap on the result of an update, ``add_pod_ids`` grew a webhook to 11 pods."""
    pods = [sandbox.client.pods.create(name=f"p{i}").pod_id for i in range(11)]
    hook = _create(sandbox, "/v0/webhooks", pod_ids=pods[:10])
    path = f"/v0/webhooks/{hook.webhook_id}"
    _refused(_patch(sandbox, path, {"add_pod_ids": pods[10:]}), "add_pod_ids")
    assert _read(sandbox, path) == hook


def test_removing_a_scoped_webhooks_last_subscriptions_names_the_field_sent(sandbox: Sandbox) -> None:
    """The 400 always named ``remove_inbox_ids``, which a body removing the last pods never had."""
    a, b = sandbox.client.pods.create(name="a").pod_id, sandbox.client.pods.create(name="b").pod_id
    inbox = sandbox.client.inboxes.create().inbox_id
    by_pods = _create(sandbox, "/v0/webhooks", pod_ids=[a, b])
    path = f"/v0/webhooks/{by_pods.webhook_id}"
    _refused(_patch(sandbox, path, {"remove_pod_ids": [a, b]}), "remove_pod_ids")
    assert _read(sandbox, path) == by_pods
    by_inbox = _create(sandbox, "/v0/webhooks", inbox_ids=[inbox])
    _refused(_patch(sandbox, f"/v0/webhooks/{by_inbox.webhook_id}", {"remove_inbox_ids": [inbox]}), "remove_inbox_ids")


def test_a_webhook_whose_subscriptions_were_deleted_can_still_be_patched(sandbox: Sandbox) -> None:
    """§11 Q11: a scoped webhook whose last pod was deleted keeps its empty lists (it receives
    nothing); a PATCH that removes nothing is not refused for them (it was a 400 on any change,
    even ``enabled: false``, naming ``remove_inbox_ids``)."""
    pod = sandbox.client.pods.create(name="gone").pod_id
    hook = _create(sandbox, "/v0/webhooks", pod_ids=[pod])
    sandbox.client.pods.delete(pod)
    response = _patch(sandbox, f"/v0/webhooks/{hook.webhook_id}", {"enabled": False})
    assert response.status_code == 200, response.text
    changed = Webhook.model_validate(response.json())
    assert (changed.enabled, changed.pod_ids, changed.inbox_ids) == (False, [], [])


# ---------------------------------------------------------------------------------------------
# PATCH /webhooks/{id}: what an accepted change leaves behind


def test_inbox_ids_in_an_update_are_case_insensitive(sandbox: Sandbox) -> None:
    """Inbox ids are addresses: without lower-casing, ``remove_inbox_ids`` in upper case removed
    nothing and ``add_inbox_ids`` in upper case stored a second spelling of the same inbox."""
    one, two, three = (sandbox.client.inboxes.create().inbox_id for _ in range(3))
    hook = _create(sandbox, "/v0/webhooks", inbox_ids=[one, two])
    path = f"/v0/webhooks/{hook.webhook_id}"
    response = _patch(sandbox, path, {"remove_inbox_ids": [one.upper()], "add_inbox_ids": [three.upper()]})
    assert response.status_code == 200, response.text
    assert Webhook.model_validate(response.json()).inbox_ids == [two, three]
    assert _read(sandbox, path).inbox_ids == [two, three]


def test_a_change_moves_updated_at(sandbox: Sandbox) -> None:
    """Without the stamp a disabled webhook kept its creation ``updated_at``."""
    hook = _create(sandbox, "/v0/webhooks")
    _tick()
    response = _patch(sandbox, f"/v0/webhooks/{hook.webhook_id}", {"enabled": False})
    assert response.status_code == 200, response.text
    changed = Webhook.model_validate(response.json())
    assert changed.enabled is False and changed.updated_at > hook.updated_at
    assert changed.created_at == hook.created_at
    assert _read(sandbox, f"/v0/webhooks/{hook.webhook_id}").updated_at == changed.updated_at


def test_dropping_a_deleted_inbox_from_a_webhook_moves_updated_at(sandbox: Sandbox) -> None:
    """§11 Q11: without the stamp the cascade changed ``inbox_ids`` but not ``updated_at``."""
    gone, kept = sandbox.client.inboxes.create().inbox_id, sandbox.client.inboxes.create().inbox_id
    hook = _create(sandbox, "/v0/webhooks", inbox_ids=[gone, kept])
    _tick()
    sandbox.client.inboxes.delete(gone)
    after = _read(sandbox, f"/v0/webhooks/{hook.webhook_id}")
    assert after.inbox_ids == [kept] and after.updated_at > hook.updated_at


# ---------------------------------------------------------------------------------------------
# PATCH /webhooks/{id}/headers


def _header_names(sandbox: Sandbox, path: str) -> list[str]:
    response = sandbox.http.get(f"{path}/headers", headers=auth(ORG_KEY))
    assert response.status_code == 200, response.text
    return WebhookHeaderNamesResponse.model_validate(response.json()).header_names


def test_changing_headers_needs_webhook_update(sandbox: Sandbox) -> None:
    """Without the permission check a read-only key could replace a webhook's delivery headers."""
    hook = _create(sandbox, "/v0/webhooks", headers={"X-Token": "original"})
    path = f"/v0/webhooks/{hook.webhook_id}"
    permissions = ApiKeyPermissions(webhook_read=True)
    reader = sandbox.client.api_keys.create(request=CreateBearerApiKeyRequest(name="reader", permissions=permissions))
    response = _patch(sandbox, f"{path}/headers", {"headers": {"X-Other": "v"}}, key=reader.api_key)
    assert (response.status_code, response.json()["code"]) == (403, "missing_permission"), response.text
    assert _header_names(sandbox, path) == ["X-Token"]
    assert _read(sandbox, path) == hook


def test_null_headers_in_a_headers_patch_are_400(sandbox: Sandbox) -> None:
    """§11 Q18: without ``reject_nulls`` a null next to a real change was read as "omitted" (204)."""
    hook = _create(sandbox, "/v0/webhooks", headers={"X-Token": "original"})
    path = f"/v0/webhooks/{hook.webhook_id}"
    _refused(_patch(sandbox, f"{path}/headers", {"headers": None, "remove_headers": ["x-token"]}), "headers")
    _refused(_patch(sandbox, f"{path}/headers", {"headers": {"X-A": "1"}, "remove_headers": None}), "remove_headers")
    assert _header_names(sandbox, path) == ["X-Token"]
    assert _read(sandbox, path) == hook


def test_a_headers_patch_moves_updated_at(sandbox: Sandbox) -> None:
    """Without the stamp a header change left ``updated_at`` at its creation value."""
    hook = _create(sandbox, "/v0/webhooks")
    path = f"/v0/webhooks/{hook.webhook_id}"
    _tick()
    response = _patch(sandbox, f"{path}/headers", {"headers": {"X-Token": "v"}})
    assert (response.status_code, response.content) == (204, b"")
    assert _read(sandbox, path).updated_at > hook.updated_at


def test_a_header_name_given_twice_in_another_case_is_400(sandbox: Sandbox) -> None:
    """Header names are case-insensitive: without the ``seen`` check, ``X-Token`` and ``x-token``
    in one map were both stored, on create and on a headers PATCH."""
    twice = {"X-Token": "a", "x-token": "b"}
    response = sandbox.http.post(
        "/v0/webhooks", json={"url": URL, "event_types": RECEIVED, "headers": twice}, headers=auth(ORG_KEY)
    )
    _refused(response, "headers.x-token")
    assert sandbox.client.webhooks.list().webhooks == []
    hook = _create(sandbox, "/v0/webhooks", headers={"X-Kept": "v"})
    path = f"/v0/webhooks/{hook.webhook_id}"
    _refused(_patch(sandbox, f"{path}/headers", {"headers": twice}), "headers.x-token")
    assert _header_names(sandbox, path) == ["X-Kept"]
    assert _read(sandbox, path) == hook
