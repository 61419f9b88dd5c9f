"""Key scopes: hiding as 404, the inbox-key 403 on pod routes, identity (spec §3.1, §7.7, §11 Q12)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from agentmail import AgentMail, CreateBearerApiKeyRequest
from agentmail.errors import NotFoundError
from agentmail.inboxes import CreateInboxRequest
from contract_harness import ORG_KEY, Sandbox, auth, raises_api_error


@dataclass
class TwoPods:
    pod_a: str
    pod_b: str
    inbox_a: str
    inbox_a2: str
    inbox_b: str
    as_pod_a: AgentMail
    as_inbox_a: AgentMail


@pytest.fixture
def two_pods(sandbox: Sandbox) -> TwoPods:
    pods = sandbox.client.pods
    pod_a, pod_b = pods.create(name="a").pod_id, pods.create(name="b").pod_id
    inbox_a = pods.inboxes.create(pod_a, username="alpha").inbox_id
    inbox_a2 = pods.inboxes.create(pod_a, username="alpha2").inbox_id
    inbox_b = pods.inboxes.create(pod_b, username="beta").inbox_id
    request = CreateBearerApiKeyRequest(name="scoped")
    pod_key = pods.api_keys.create(pod_a, request=request).api_key
    inbox_key = sandbox.client.inboxes.api_keys.create(inbox_a, request=request).api_key
    return TwoPods(pod_a, pod_b, inbox_a, inbox_a2, inbox_b, sandbox.sdk(pod_key), sandbox.sdk(inbox_key))


def test_org_key_identity(sandbox: Sandbox) -> None:
    me = sandbox.client.auth.me()
    assert me.scope_type == "organization" and me.scope_id == me.organization_id
    assert me.pod_id is None and me.inbox_id is None and me.api_key_id


def test_pod_and_inbox_key_identity(two_pods: TwoPods, sandbox: Sandbox) -> None:
    org_id = sandbox.client.auth.me().organization_id
    pod_me = two_pods.as_pod_a.auth.me()
    assert (pod_me.scope_type, pod_me.scope_id, pod_me.pod_id, pod_me.inbox_id) == (
        "pod",
        two_pods.pod_a,
        two_pods.pod_a,
        None,
    )
    inbox_me = two_pods.as_inbox_a.auth.me()
    assert (inbox_me.scope_type, inbox_me.scope_id, inbox_me.pod_id, inbox_me.inbox_id) == (
        "inbox",
        two_pods.inbox_a,
        two_pods.pod_a,
        two_pods.inbox_a,
    )
    assert pod_me.organization_id == inbox_me.organization_id == org_id
    assert pod_me.api_key_id and inbox_me.api_key_id and pod_me.api_key_id != inbox_me.api_key_id


def test_organization_counts_inboxes_and_domains(sandbox: Sandbox) -> None:
    before = sandbox.client.organizations.get()
    sandbox.client.inboxes.create()
    sandbox.client.domains.create(domain="counted.example")
    after = sandbox.client.organizations.get()
    assert (after.inbox_count, after.domain_count) == (before.inbox_count + 1, before.domain_count + 1)
    assert after.organization_id == sandbox.client.auth.me().organization_id


def test_organization_needs_an_org_key(two_pods: TwoPods) -> None:
    for client in (two_pods.as_pod_a, two_pods.as_inbox_a):
        with raises_api_error(403, "missing_permission"):
            client.organizations.get()


def test_a_right_the_scope_denies_is_refused_in_the_scopes_words(sandbox: Sandbox) -> None:
    """Scope ∩ permissions (§3.1): an inbox key granted inbox_create still cannot create inboxes.
    The 403 told it to "use a key whose permissions include inbox_create", which it was."""
    inbox = sandbox.client.inboxes.create().inbox_id
    made = sandbox.http.post(
        f"/v0/inboxes/{inbox}/api-keys",
        json={"name": "i", "permissions": {"inbox_create": True}},
        headers=auth(ORG_KEY),
    ).json()
    assert made["permissions"]["inbox_create"] is True
    refused = sandbox.http.post("/v0/inboxes", json={}, headers=auth(made["api_key"]))
    body = refused.json()
    assert (refused.status_code, body["code"]) == (403, "missing_permission"), body
    assert "an inbox-scoped key" in body["message"] and "inbox_create" in body["message"], body
    assert body["fix"] == "Use a pod-scoped or organization-level key whose permissions allow inbox_create.", body
    assert [i.inbox_id for i in sandbox.client.inboxes.list().inboxes] == [inbox]


def test_organization_403_advises_an_organization_key(two_pods: TwoPods, sandbox: Sandbox) -> None:
    """The fix named "organization_read", a permission no key can be given (400 on create)."""
    for client, scope in ((two_pods.as_pod_a, "a pod-scoped key"), (two_pods.as_inbox_a, "an inbox-scoped key")):
        with raises_api_error(403, "missing_permission") as info:
            client.organizations.get()
        assert scope in info.value.body["message"], info.value.body
        assert info.value.body["fix"] == "Use an organization-level key.", info.value.body


def test_scope_403s_name_the_scope_with_its_article(two_pods: TwoPods) -> None:
    """ "a inbox-scoped key cannot ..." read wrong wherever the scope was filled in."""
    with raises_api_error(403, "forbidden") as info:
        two_pods.as_inbox_a.domains.list()
    assert "an inbox-scoped key cannot" in info.value.body["message"], info.value.body


def test_pod_key_sees_only_its_pod(two_pods: TwoPods) -> None:
    client = two_pods.as_pod_a
    assert [p.pod_id for p in client.pods.list().pods] == [two_pods.pod_a]
    assert sorted(i.inbox_id for i in client.inboxes.list().inboxes) == sorted([two_pods.inbox_a, two_pods.inbox_a2])
    assert client.pods.get(two_pods.pod_a).pod_id == two_pods.pod_a
    with raises_api_error(404, "not_found", NotFoundError):
        client.pods.get(two_pods.pod_b)
    with raises_api_error(404, "not_found", NotFoundError):
        client.inboxes.get(two_pods.inbox_b)
    with raises_api_error(404, "not_found", NotFoundError):
        client.pods.inboxes.list(two_pods.pod_b)
    with raises_api_error(404, "not_found", NotFoundError):
        client.inboxes.delete(two_pods.inbox_b)


def test_pod_key_creates_on_org_routes_land_in_its_pod(two_pods: TwoPods) -> None:
    inbox = two_pods.as_pod_a.inboxes.create(request=CreateInboxRequest(username="via-org-route"))
    assert inbox.pod_id == two_pods.pod_a


def test_pod_key_cannot_create_or_delete_pods(sandbox: Sandbox) -> None:
    empty = sandbox.client.pods.create(name="empty").pod_id
    as_pod = sandbox.sdk(sandbox.client.pods.api_keys.create(empty, request=CreateBearerApiKeyRequest()).api_key)
    with raises_api_error(403, "forbidden"):
        as_pod.pods.create(name="new")
    with raises_api_error(403, "forbidden"):
        as_pod.pods.delete(empty)
    assert sandbox.client.pods.get(empty).pod_id == empty


def test_inbox_key_sees_only_its_inbox(two_pods: TwoPods) -> None:
    client = two_pods.as_inbox_a
    assert [i.inbox_id for i in client.inboxes.list().inboxes] == [two_pods.inbox_a]
    assert client.inboxes.get(two_pods.inbox_a).inbox_id == two_pods.inbox_a
    for other in (two_pods.inbox_a2, two_pods.inbox_b):
        with raises_api_error(404, "not_found", NotFoundError):
            client.inboxes.get(other)
    assert client.inboxes.update(two_pods.inbox_a, display_name="Mine").display_name == "Mine"


def test_inbox_key_on_pod_routes_is_403(two_pods: TwoPods) -> None:
    client = two_pods.as_inbox_a
    for call in (
        lambda: client.pods.list(),
        lambda: client.pods.get(two_pods.pod_a),
        lambda: client.pods.inboxes.list(two_pods.pod_a),
        lambda: client.pods.inboxes.get(two_pods.pod_a, two_pods.inbox_a),
    ):
        with raises_api_error(403, "forbidden"):
            call()


def test_inbox_key_cannot_reach_domains_or_create_inboxes(two_pods: TwoPods) -> None:
    with raises_api_error(403, "forbidden"):
        two_pods.as_inbox_a.domains.list()
    with raises_api_error(403):
        two_pods.as_inbox_a.inboxes.create()


def test_inbox_key_sub_resources_of_other_inboxes_are_404(two_pods: TwoPods) -> None:
    client = two_pods.as_inbox_a
    with raises_api_error(404, "not_found"):
        client.inboxes.webhooks.list(two_pods.inbox_b)
    with raises_api_error(404, "not_found"):
        client.inboxes.lists.list(two_pods.inbox_b, "receive", "block")


def test_requests_without_a_key_are_401(sandbox: Sandbox) -> None:
    with raises_api_error(401, "missing_authorization"):
        sandbox.sdk(None).pods.list()
    with raises_api_error(401, "unknown_api_key"):
        sandbox.sdk("am_us_not_a_real_key_000000").pods.list()
