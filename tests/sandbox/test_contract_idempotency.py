"""`client_id` idempotency (spec §5, §11 Q4, Q5): a repeat create returns the original resource,
unchanged, even with a different body; via another pod's route it is 403 already_exists."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from agentmail import CreateBearerApiKeyRequest
from agentmail.core.api_error import ApiError
from agentmail.errors import ValidationError
from agentmail.inboxes import CreateInboxRequest
from contract_harness import Sandbox, raises_api_error


def test_repeat_pod_create_returns_the_original(sandbox: Sandbox) -> None:
    first = sandbox.client.pods.create(name="first", client_id="pod-1")
    again = sandbox.client.pods.create(name="second", client_id="pod-1")
    assert again == first and again.name == "first" and again.client_id == "pod-1"
    assert sandbox.client.pods.list().count == 2


def test_repeat_inbox_create_returns_the_original_even_with_another_body(sandbox: Sandbox) -> None:
    first = sandbox.client.inboxes.create(request=CreateInboxRequest(username="one", client_id="inbox-1"))
    again = sandbox.client.inboxes.create(
        request=CreateInboxRequest(username="two", display_name="Changed", client_id="inbox-1")
    )
    assert again == first and again.display_name is None
    assert [i.inbox_id for i in sandbox.client.inboxes.list().inboxes] == ["one@agentmail.to"]


def test_repeat_pod_route_inbox_create_returns_the_original(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="p")
    first = sandbox.client.pods.inboxes.create(pod.pod_id, username="same", client_id="pod-inbox")
    assert sandbox.client.pods.inboxes.create(pod.pod_id, username="other", client_id="pod-inbox") == first


def test_inbox_client_id_via_another_pods_route_is_403(sandbox: Sandbox) -> None:
    pod_a, pod_b = sandbox.client.pods.create(name="a"), sandbox.client.pods.create(name="b")
    sandbox.client.pods.inboxes.create(pod_a.pod_id, username="owned", client_id="shared-id")
    with raises_api_error(403, "already_exists"):
        sandbox.client.pods.inboxes.create(pod_b.pod_id, username="owned2", client_id="shared-id")
    assert sandbox.client.pods.inboxes.list(pod_b.pod_id).count == 0


def test_inbox_client_id_outside_a_pod_keys_scope_is_403(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="scoped")
    sandbox.client.inboxes.create(request=CreateInboxRequest(username="org-owned", client_id="hidden"))
    as_pod = sandbox.sdk(sandbox.client.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest()).api_key)
    with raises_api_error(403, "already_exists"):
        as_pod.inboxes.create(request=CreateInboxRequest(username="mine", client_id="hidden"))


def test_repeat_webhook_create_returns_the_original(sandbox: Sandbox) -> None:
    first = sandbox.client.webhooks.create(url="https://h.example/1", event_types=["message.received"], client_id="wh")
    again = sandbox.client.webhooks.create(url="https://h.example/2", event_types=["message.sent"], client_id="wh")
    assert again == first and again.secret == first.secret
    pod = sandbox.client.pods.create(name="p")
    pod_first = sandbox.client.pods.webhooks.create(
        pod.pod_id, url="https://h.example/p", event_types=["message.received"], client_id="pod-wh"
    )
    assert (
        sandbox.client.pods.webhooks.create(
            pod.pod_id, url="https://h.example/q", event_types=["message.sent"], client_id="pod-wh"
        )
        == pod_first
    )


def test_repeat_domain_create_with_client_id_returns_the_original(sandbox: Sandbox) -> None:
    options = {"additional_body_parameters": {"client_id": "dom-1"}}
    first = sandbox.client.domains.create(domain="idem.example", request_options=options)
    assert first.client_id == "dom-1"
    again = sandbox.client.domains.create(domain="idem.example", tracking_enabled=True, request_options=options)
    assert again.domain_id == first.domain_id and again.tracking_enabled == first.tracking_enabled
    assert again.created_at == first.created_at


def test_client_ids_are_per_resource_type(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="p", client_id="same")
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(client_id="same"))
    assert (pod.client_id, inbox.client_id) == ("same", "same")


def test_deleting_frees_the_client_id(sandbox: Sandbox) -> None:
    first = sandbox.client.pods.create(name="old", client_id="reuse")
    sandbox.client.pods.delete(first.pod_id)
    second = sandbox.client.pods.create(name="new", client_id="reuse")
    assert second.pod_id != first.pod_id and second.name == "new"


@pytest.mark.parametrize("client_id", ["has space", "a@b", "", "x" * 257, "slash/no", "ünï"])
def test_malformed_client_id_is_400(sandbox: Sandbox, client_id: str) -> None:
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.pods.create(name="bad", client_id=client_id)
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.inboxes.create(request=CreateInboxRequest(client_id=client_id))


def test_concurrent_repeats_of_one_client_id_make_one_resource(sandbox: Sandbox) -> None:
    def create(i: int) -> str:
        return sandbox.client.pods.create(name=f"racer-{i}", client_id="race").pod_id

    with ThreadPoolExecutor(max_workers=8) as pool:
        pod_ids = set(pool.map(create, range(16)))
    assert len(pod_ids) == 1
    assert sandbox.client.pods.list().count == 2


def test_concurrent_creates_of_one_address_give_one_inbox_and_403s(sandbox: Sandbox) -> None:
    def create(_: int) -> str:
        try:
            return sandbox.client.inboxes.create(request=CreateInboxRequest(username="contested")).inbox_id
        except ApiError as exc:
            return f"{exc.status_code} {exc.body.get('code') if isinstance(exc.body, dict) else exc.body}"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = sorted(pool.map(create, range(12)))
    assert outcomes == ["403 resource_taken"] * 11 + ["contested@agentmail.to"]
