"""Webhooks on org, pod and inbox routes, with custom headers (spec §7.5, §3.2, §11 Q24)."""

from __future__ import annotations

import pytest
from agentmail import ApiKeyPermissions, CreateBearerApiKeyRequest
from agentmail.errors import NotFoundError, ValidationError
from agentmail.webhooks import ListWebhooksResponse, Webhook, WebhookHeaderNamesResponse
from contract_harness import ORG_KEY, Sandbox, auth, raises_api_error

URL = "https://hooks.example/agentmail"
RECEIVED = ["message.received"]


def test_org_webhook_lifecycle(sandbox: Sandbox) -> None:
    hooks = sandbox.client.webhooks
    pod = sandbox.client.pods.create(name="hooked")
    inbox = sandbox.client.inboxes.create()
    hook = hooks.create(
        url=URL, event_types=["message.received", "message.sent"], pod_ids=[pod.pod_id], inbox_ids=[inbox.inbox_id]
    )
    assert hook.enabled is True and hook.secret.startswith("whsec_") and hook.url == URL
    assert (hook.pod_ids, hook.inbox_ids, hook.pod_id, hook.inbox_id) == ([pod.pod_id], [inbox.inbox_id], None, None)
    assert hooks.get(hook.webhook_id).secret == hook.secret
    assert hook.webhook_id in [h.webhook_id for h in hooks.list().webhooks]
    hooks.delete(hook.webhook_id)
    with raises_api_error(404, "not_found", NotFoundError):
        hooks.get(hook.webhook_id)
    with raises_api_error(404, "not_found", NotFoundError):
        hooks.delete(hook.webhook_id)


def test_event_types_replace_and_empty_list_leaves_them(sandbox: Sandbox) -> None:
    hooks = sandbox.client.webhooks
    hook = hooks.create(url=URL, event_types=RECEIVED)
    assert hooks.update(hook.webhook_id, event_types=["message.bounced"]).event_types == ["message.bounced"]
    assert hooks.update(hook.webhook_id, event_types=[]).event_types == ["message.bounced"]
    disabled = hooks.update(hook.webhook_id, enabled=False)
    assert disabled.enabled is False and disabled.secret == hook.secret


def test_org_webhook_pod_and_inbox_subscriptions_update(sandbox: Sandbox) -> None:
    pod_1, pod_2 = sandbox.client.pods.create(name="1").pod_id, sandbox.client.pods.create(name="2").pod_id
    hook = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED, pod_ids=[pod_1])
    updated = sandbox.client.webhooks.update(hook.webhook_id, add_pod_ids=[pod_2], remove_pod_ids=[pod_1])
    assert updated.pod_ids == [pod_2]


def test_a_scoped_org_webhook_keeps_at_least_one_subscription(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="only").pod_id
    hook = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED, pod_ids=[pod])
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.webhooks.update(hook.webhook_id, remove_pod_ids=[pod])
    assert sandbox.client.webhooks.get(hook.webhook_id).pod_ids == [pod]


def test_adding_inboxes_to_a_whole_pod_webhook_changes_nothing(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="whole").pod_id
    inbox = sandbox.client.pods.inboxes.create(pod, username="member").inbox_id
    hook = sandbox.client.pods.webhooks.create(pod, url=URL, event_types=RECEIVED)
    updated = sandbox.client.pods.webhooks.update(pod, hook.webhook_id, add_inbox_ids=[inbox])
    assert updated.inbox_ids == hook.inbox_ids and not updated.inbox_ids


@pytest.mark.parametrize("event_types", [[], ["message.nope"]])
def test_event_types_are_required_and_known(sandbox: Sandbox, event_types: list[str]) -> None:
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.webhooks.create(url=URL, event_types=event_types)  # type: ignore[arg-type]


@pytest.mark.parametrize("url", ["not a url", "ftp://hooks.example/x", "/relative/path"])
def test_webhook_url_must_be_absolute_http(sandbox: Sandbox, url: str) -> None:
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.webhooks.create(url=url, event_types=RECEIVED)


def test_localhost_http_url_is_allowed(sandbox: Sandbox) -> None:
    assert sandbox.client.webhooks.create(url="http://localhost:9000/hook", event_types=RECEIVED).url.startswith(
        "http://"
    )


def test_pod_webhook_belongs_to_its_pod(sandbox: Sandbox) -> None:
    pods = sandbox.client.pods
    pod, other = pods.create(name="p"), pods.create(name="o")
    inbox = pods.inboxes.create(pod.pod_id, username="in-pod")
    hook = pods.webhooks.create(pod.pod_id, url=URL, event_types=RECEIVED, inbox_ids=[inbox.inbox_id])
    assert hook.pod_id == pod.pod_id and hook.inbox_ids == [inbox.inbox_id]
    assert pods.webhooks.get(pod.pod_id, hook.webhook_id).webhook_id == hook.webhook_id
    assert [h.webhook_id for h in pods.webhooks.list(pod.pod_id).webhooks] == [hook.webhook_id]
    assert pods.webhooks.list(other.pod_id).webhooks == []
    with raises_api_error(404, "not_found", NotFoundError):
        pods.webhooks.get(other.pod_id, hook.webhook_id)
    assert pods.webhooks.update(pod.pod_id, hook.webhook_id, enabled=False).enabled is False
    pods.webhooks.delete(pod.pod_id, hook.webhook_id)
    assert pods.webhooks.list(pod.pod_id).count == 0


def test_inbox_webhook_belongs_to_its_inbox(sandbox: Sandbox) -> None:
    inboxes = sandbox.client.inboxes
    inbox, other = inboxes.create(), inboxes.create()
    hook = inboxes.webhooks.create(inbox.inbox_id, url=URL, event_types=RECEIVED, client_id="inbox-hook")
    assert hook.inbox_id == inbox.inbox_id and hook.client_id == "inbox-hook"
    assert hook.pod_id in (None, inbox.pod_id)
    assert inboxes.webhooks.get(inbox.inbox_id, hook.webhook_id).secret == hook.secret
    assert [h.webhook_id for h in inboxes.webhooks.list(inbox.inbox_id).webhooks] == [hook.webhook_id]
    assert inboxes.webhooks.list(other.inbox_id).webhooks == []
    with raises_api_error(404, "not_found", NotFoundError):
        inboxes.webhooks.get(other.inbox_id, hook.webhook_id)
    assert inboxes.webhooks.update(inbox.inbox_id, hook.webhook_id, event_types=["message.sent"]).event_types == [
        "message.sent"
    ]
    inboxes.webhooks.delete(inbox.inbox_id, hook.webhook_id)
    with raises_api_error(404, "not_found", NotFoundError):
        inboxes.webhooks.get(inbox.inbox_id, hook.webhook_id)


def test_header_values_are_write_only(sandbox: Sandbox) -> None:
    hooks = sandbox.client.webhooks
    hook = hooks.create(url=URL, event_types=RECEIVED, headers={"X-Token": "s3cr3t-value"})
    assert hooks.get_headers(hook.webhook_id).header_names == ["X-Token"]
    hooks.update_headers(hook.webhook_id, headers={"X-Other": "v2"}, remove_headers=["x-token"])
    assert hooks.get_headers(hook.webhook_id).header_names == ["X-Other"]
    assert not any(b"s3cr3t-value" in e.content or b'"v2"' in e.content for e in sandbox.exchanges)


def test_headers_patch_needs_a_change_and_no_overlap(sandbox: Sandbox) -> None:
    hook = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED)
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.webhooks.update_headers(hook.webhook_id)
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.webhooks.update_headers(hook.webhook_id, headers={"X-A": "1"}, remove_headers=["x-a"])
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.webhooks.create(url=URL, event_types=RECEIVED, headers={})


def test_pod_and_inbox_webhook_headers(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="h")
    inbox = sandbox.client.pods.inboxes.create(pod.pod_id, username="h")
    pod_hook = sandbox.client.pods.webhooks.create(pod.pod_id, url=URL, event_types=RECEIVED, headers={"X-P": "1"})
    sandbox.client.pods.webhooks.update_headers(pod.pod_id, pod_hook.webhook_id, headers={"X-Q": "2"})
    assert sorted(sandbox.client.pods.webhooks.get_headers(pod.pod_id, pod_hook.webhook_id).header_names) == [
        "X-P",
        "X-Q",
    ]
    inbox_hook = sandbox.client.inboxes.webhooks.create(inbox.inbox_id, url=URL, event_types=RECEIVED)
    sandbox.client.inboxes.webhooks.update_headers(inbox.inbox_id, inbox_hook.webhook_id, headers={"X-I": "3"})
    assert sandbox.client.inboxes.webhooks.get_headers(inbox.inbox_id, inbox_hook.webhook_id).header_names == ["X-I"]


def test_spam_events_need_the_label_permission(sandbox: Sandbox) -> None:
    key = sandbox.client.api_keys.create(
        request=CreateBearerApiKeyRequest(
            name="hooks", permissions=ApiKeyPermissions(webhook_create=True, webhook_update=True, webhook_read=True)
        )
    )
    as_hooks = sandbox.sdk(key.api_key)
    with raises_api_error(403, "missing_permission"):
        as_hooks.webhooks.create(url=URL, event_types=["message.received.spam"])
    hook = as_hooks.webhooks.create(url=URL, event_types=RECEIVED)
    with raises_api_error(403, "missing_permission"):
        as_hooks.webhooks.update(hook.webhook_id, event_types=["message.received.blocked"])
    assert sandbox.client.webhooks.create(url=URL, event_types=["message.received.spam"]).event_types == [
        "message.received.spam"
    ]


def test_deleting_an_inbox_removes_its_webhooks_and_subscriptions(sandbox: Sandbox) -> None:
    inbox, kept = sandbox.client.inboxes.create(), sandbox.client.inboxes.create()
    own = sandbox.client.inboxes.webhooks.create(inbox.inbox_id, url=URL, event_types=RECEIVED)
    org_hook = sandbox.client.webhooks.create(url=URL, event_types=RECEIVED, inbox_ids=[inbox.inbox_id, kept.inbox_id])
    sandbox.client.inboxes.delete(inbox.inbox_id)
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.webhooks.get(own.webhook_id)
    assert sandbox.client.webhooks.get(org_hook.webhook_id).inbox_ids == [kept.inbox_id]


def test_pod_polling_paths_the_sdk_calls_are_routed_not_taken_for_webhook_ids(sandbox: Sandbox) -> None:
    """Issue 17: GET said "Webhook not found" and POST was 405, the {webhook_id} routes' answers."""
    pod = sandbox.client.pods.create(name="polled").pod_id
    polling = sandbox.client.pods.webhooks.polling
    calls = [
        lambda: polling.list(pod),
        lambda: polling.create(pod, event_types=RECEIVED, client_id="poller"),
        lambda: polling.get(pod, "ep_unknown"),
        lambda: polling.delete(pod, "ep_unknown"),
    ]
    for call in calls:
        with raises_api_error(404, "not_found") as info:
            call()
        body = info.value.body
        assert "not emulated" in (body["message"] if isinstance(body, dict) else body.message)


@pytest.mark.parametrize("scope", ["org", "pod", "inbox"])
def test_header_bodies_validate_and_never_carry_a_value(sandbox: Sandbox, scope: str) -> None:
    """Issue 20: every body of the headers routes parses with its SDK model; values are write-only."""
    pod = sandbox.client.pods.create(name="headers").pod_id
    inbox = sandbox.client.pods.inboxes.create(pod, username="headers").inbox_id
    base = {"org": "/v0/webhooks", "pod": f"/v0/pods/{pod}/webhooks", "inbox": f"/v0/inboxes/{inbox}/webhooks"}[scope]
    secret_value = "value-that-must-never-be-read-back"
    created = sandbox.http.post(
        base, json={"url": URL, "event_types": RECEIVED, "headers": {"X-Auth": secret_value}}, headers=auth(ORG_KEY)
    )
    hook = Webhook.model_validate(created.json())
    path = f"{base}/{hook.webhook_id}"
    patched = sandbox.http.patch(
        f"{path}/headers",
        json={"headers": {"X-Extra": secret_value}, "remove_headers": ["x-auth"]},
        headers=auth(ORG_KEY),
    )
    assert (patched.status_code, patched.content) == (204, b"")
    names = WebhookHeaderNamesResponse.model_validate(sandbox.http.get(f"{path}/headers", headers=auth(ORG_KEY)).json())
    assert names.header_names == ["X-Extra"]
    Webhook.model_validate(sandbox.http.get(path, headers=auth(ORG_KEY)).json())
    ListWebhooksResponse.model_validate(sandbox.http.get(base, headers=auth(ORG_KEY)).json())
    assert not [e for e in sandbox.exchanges if secret_value.encode() in e.content]
