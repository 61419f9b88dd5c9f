"""Pods (spec §7.1, §8, §11 Q1, Q13, Q14, Q16)."""

from __future__ import annotations

from agentmail import CreateBearerApiKeyRequest
from agentmail.errors import NotFoundError
from agentmail.inboxes import CreateInboxRequest
from contract_harness import Sandbox, raises_api_error


def test_reset_leaves_only_the_default_pod(sandbox: Sandbox) -> None:
    pods = sandbox.client.pods.list()
    assert pods.count == 1 and len(pods.pods) == 1
    inbox = sandbox.client.inboxes.create()
    assert inbox.pod_id == pods.pods[0].pod_id


def test_pod_create_get_list_delete(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="support")
    assert pod.name == "support" and pod.client_id is None
    assert sandbox.client.pods.get(pod.pod_id) == pod
    assert pod.pod_id in [p.pod_id for p in sandbox.client.pods.list().pods]
    sandbox.client.pods.delete(pod.pod_id)
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.pods.get(pod.pod_id)


def test_pod_name_defaults_to_its_id(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create()
    assert pod.name == pod.pod_id


def test_deleting_a_pod_twice_gives_404(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="once")
    sandbox.client.pods.delete(pod.pod_id)
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.pods.delete(pod.pod_id)


def test_unknown_pod_is_404_on_every_pod_subroute(sandbox: Sandbox) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    pods = sandbox.client.pods
    for call in (
        lambda: pods.get(missing),
        lambda: pods.inboxes.list(missing),
        lambda: pods.domains.list(missing),
        lambda: pods.api_keys.list(missing),
        lambda: pods.inboxes.create(missing, username="x"),
    ):
        with raises_api_error(404, "not_found"):
            call()


def test_pod_with_inboxes_cannot_be_deleted(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="busy")
    inbox = sandbox.client.pods.inboxes.create(pod.pod_id, username="busy-inbox")
    with raises_api_error(403, "cannot_delete"):
        sandbox.client.pods.delete(pod.pod_id)
    assert sandbox.client.pods.get(pod.pod_id).pod_id == pod.pod_id
    sandbox.client.pods.inboxes.delete(pod.pod_id, inbox.inbox_id)
    sandbox.client.pods.delete(pod.pod_id)


def test_pod_with_domains_cannot_be_deleted(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="domained")
    domain = sandbox.client.pods.domains.create(pod.pod_id, domain="pod-owned.example")
    with raises_api_error(403, "cannot_delete"):
        sandbox.client.pods.delete(pod.pod_id)
    sandbox.client.pods.domains.delete(pod.pod_id, domain.domain_id)
    sandbox.client.pods.delete(pod.pod_id)


def test_cannot_delete_error_names_forbidden(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="busy")
    sandbox.client.pods.inboxes.create(pod.pod_id, username="blocker")
    with raises_api_error(403, "cannot_delete") as info:
        sandbox.client.pods.delete(pod.pod_id)
    assert info.value.body["name"] == "ForbiddenError"


def test_default_pod_cannot_be_deleted(sandbox: Sandbox) -> None:
    (default,) = sandbox.client.pods.list().pods
    with raises_api_error(403, "cannot_delete"):
        sandbox.client.pods.delete(default.pod_id)
    assert sandbox.client.pods.get(default.pod_id) == default


def test_pod_webhooks_keys_and_list_entries_do_not_block_delete_and_go_with_it(sandbox: Sandbox) -> None:
    client = sandbox.client
    pod = client.pods.create(name="cascade")
    hook = client.pods.webhooks.create(pod.pod_id, url="https://hooks.example/p", event_types=["message.received"])
    key = client.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="pod key"))
    client.pods.lists.create(pod.pod_id, "receive", "block", entry="spam@example.com")
    client.pods.delete(pod.pod_id)
    with raises_api_error(404, "not_found", NotFoundError):
        client.webhooks.get(hook.webhook_id)
    with raises_api_error(404, "not_found", NotFoundError):
        client.api_keys.get(key.api_key_id)
    with raises_api_error(401, "unknown_api_key"):
        sandbox.sdk(key.api_key).auth.me()


def test_org_route_inboxes_land_in_the_default_pod(sandbox: Sandbox) -> None:
    (default,) = sandbox.client.pods.list().pods
    sandbox.client.pods.create(name="not default")
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(username="org-route"))
    assert inbox.pod_id == default.pod_id
    assert [i.inbox_id for i in sandbox.client.pods.inboxes.list(default.pod_id).inboxes] == [inbox.inbox_id]
