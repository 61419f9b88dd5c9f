"""API keys: secrets, scope by route, escalation rules, expiry (spec §3, §7.4, §11 Q15, Q21)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from agentmail import ApiKeyPermissions, CreateBearerApiKeyRequest
from agentmail.errors import NotFoundError
from contract_harness import ORG_KEY, Sandbox, auth, raises_api_error


def bearer(
    name: str, permissions: ApiKeyPermissions | None = None, expires_at: dt.datetime | None = None
) -> CreateBearerApiKeyRequest:
    fields = {"name": name, "permissions": permissions, "expires_at": expires_at}
    return CreateBearerApiKeyRequest(**{k: v for k, v in fields.items() if v is not None})


def in_(seconds: float) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(seconds=seconds)


def test_secret_is_only_in_the_create_response(sandbox: Sandbox) -> None:
    created = sandbox.client.api_keys.create(request=bearer("ci"))
    assert created.api_key.startswith("am_") and created.api_key.startswith(created.prefix)
    assert created.prefix != created.api_key and created.name == "ci"
    secret = created.api_key.encode()
    sandbox.client.api_keys.get(created.api_key_id)
    sandbox.client.api_keys.list()
    sandbox.client.api_keys.update(created.api_key_id, name="ci-renamed")
    later = [e for e in sandbox.exchanges if e.method != "POST" and e.path.startswith("/v0/api-keys")]
    assert len(later) == 3 and not any(secret in e.content for e in later)
    assert all(b'"api_key"' not in e.content for e in later)


def test_org_key_get_list_update_delete(sandbox: Sandbox) -> None:
    created = sandbox.client.api_keys.create(request=bearer("ops", ApiKeyPermissions(inbox_read=True)))
    key = sandbox.client.api_keys.get(created.api_key_id)
    assert (key.type, key.name, key.pod_id, key.inbox_id) == ("bearer", "ops", None, None)
    assert key.permissions is not None and key.permissions.inbox_read is True
    assert created.api_key_id in [k.api_key_id for k in sandbox.client.api_keys.list().api_keys]
    time.sleep(0.002)  # timestamps have milliseconds
    renamed = sandbox.client.api_keys.update(created.api_key_id, name="ops-renamed")
    again = sandbox.client.api_keys.get(created.api_key_id)  # kept, not only answered
    assert renamed.name == again.name == "ops-renamed"
    assert again.updated_at > again.created_at == key.created_at
    assert again.permissions is not None and again.permissions.inbox_read is True  # a rename keeps them
    sandbox.client.api_keys.delete(created.api_key_id)
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.api_keys.get(created.api_key_id)
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.api_keys.delete(created.api_key_id)


def test_created_key_authenticates_and_a_deleted_key_is_401(sandbox: Sandbox) -> None:
    created = sandbox.client.api_keys.create(request=bearer("temp"))
    assert sandbox.sdk(created.api_key).auth.me().scope_type == "organization"
    sandbox.client.api_keys.delete(created.api_key_id)
    with raises_api_error(401, "unknown_api_key"):
        sandbox.sdk(created.api_key).auth.me()


def test_name_defaults_to_the_prefix(sandbox: Sandbox) -> None:
    created = sandbox.client.api_keys.create(request=CreateBearerApiKeyRequest())
    assert created.name == created.prefix


def test_permissions_patch_replaces_the_whole_object(sandbox: Sandbox) -> None:
    created = sandbox.client.api_keys.create(request=bearer("perm", ApiKeyPermissions(inbox_read=True, pod_read=True)))
    updated = sandbox.client.api_keys.update(created.api_key_id, permissions=ApiKeyPermissions(domain_read=True))
    assert updated.permissions is not None
    assert (updated.permissions.domain_read, updated.permissions.inbox_read, updated.permissions.pod_read) == (
        True,
        None,
        None,
    )
    kept = sandbox.client.api_keys.get(created.api_key_id).permissions
    assert kept is not None and (kept.domain_read, kept.inbox_read, kept.pod_read) == (True, None, None)
    sandbox.client.api_keys.update(created.api_key_id, permissions=None)  # null: unrestricted (§11 Q21)
    assert sandbox.client.api_keys.get(created.api_key_id).permissions is None


def test_pod_key_is_scoped_to_its_pod(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="keyed")
    created = sandbox.client.pods.api_keys.create(pod.pod_id, request=bearer("pod"))
    assert created.pod_id == pod.pod_id and created.inbox_id is None
    assert [k.api_key_id for k in sandbox.client.pods.api_keys.list(pod.pod_id).api_keys] == [created.api_key_id]
    renamed = sandbox.client.pods.api_keys.update(pod.pod_id, created.api_key_id, name="pod2")
    assert renamed.name == "pod2" and renamed.pod_id == pod.pod_id
    other = sandbox.client.pods.create(name="other")
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.pods.api_keys.delete(other.pod_id, created.api_key_id)
    sandbox.client.pods.api_keys.delete(pod.pod_id, created.api_key_id)
    assert sandbox.client.pods.api_keys.list(pod.pod_id).count == 0


def test_inbox_key_carries_inbox_and_pod(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create()
    created = sandbox.client.inboxes.api_keys.create(inbox.inbox_id, request=bearer("inbox"))
    assert (created.inbox_id, created.pod_id) == (inbox.inbox_id, inbox.pod_id)
    listed = sandbox.client.inboxes.api_keys.list(inbox.inbox_id).api_keys
    assert [k.api_key_id for k in listed] == [created.api_key_id]
    assert sandbox.client.inboxes.api_keys.update(inbox.inbox_id, created.api_key_id, name="i2").name == "i2"
    sandbox.client.inboxes.api_keys.delete(inbox.inbox_id, created.api_key_id)
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.api_keys.get(created.api_key_id)


def test_list_can_filter_by_type(sandbox: Sandbox) -> None:
    sandbox.client.api_keys.create(request=bearer("one"))
    bearers = sandbox.client.api_keys.list(type="bearer").api_keys
    assert bearers and all(k.type == "bearer" for k in bearers)
    assert sandbox.client.api_keys.list(type="public_key").api_keys == []


def test_expired_key_is_401_api_key_expired(sandbox: Sandbox) -> None:
    created = sandbox.client.api_keys.create(request=bearer("short", expires_at=in_(1)))
    deadline = created.expires_at
    assert deadline is not None
    time.sleep(max(0.0, (deadline - dt.datetime.now(dt.UTC)).total_seconds()) + 0.05)
    with raises_api_error(401, "api_key_expired"):
        sandbox.sdk(created.api_key).auth.me()


def test_expiry_in_the_past_is_400(sandbox: Sandbox) -> None:
    with raises_api_error(400, "validation_error"):
        sandbox.client.api_keys.create(request=bearer("past", expires_at=in_(-60)))


def test_child_key_inherits_and_cannot_outlive_the_callers_expiry(sandbox: Sandbox) -> None:
    parent = sandbox.client.api_keys.create(request=bearer("parent", expires_at=in_(3600)))
    as_parent = sandbox.sdk(parent.api_key)
    child = as_parent.api_keys.create(request=bearer("child"))
    assert child.expires_at == parent.expires_at
    with raises_api_error(403):
        as_parent.api_keys.create(request=bearer("longer", expires_at=in_(7200)))


def test_restricted_key_cannot_grant_flags_it_lacks(sandbox: Sandbox) -> None:
    limited = sandbox.client.api_keys.create(
        request=bearer("limited", ApiKeyPermissions(api_key_create=True, inbox_read=True))
    )
    as_limited = sandbox.sdk(limited.api_key)
    with raises_api_error(403, "permission_escalation"):
        as_limited.api_keys.create(request=bearer("wider", ApiKeyPermissions(inbox_read=True, pod_create=True)))
    subset = as_limited.api_keys.create(request=bearer("subset", ApiKeyPermissions(inbox_read=True)))
    assert subset.permissions is not None and subset.permissions.inbox_read is True


def test_restricted_key_cannot_create_an_unrestricted_key(sandbox: Sandbox) -> None:
    limited = sandbox.client.api_keys.create(
        request=bearer("limited", ApiKeyPermissions(api_key_create=True, api_key_update=True))
    )
    as_limited = sandbox.sdk(limited.api_key)
    with raises_api_error(403, "unrestricted_key_required"):
        as_limited.api_keys.create(request=bearer("unrestricted"))
    with raises_api_error(403, "unrestricted_key_required"):
        as_limited.api_keys.update(limited.api_key_id, permissions=None)


def test_missing_permission_is_403(sandbox: Sandbox) -> None:
    reader = sandbox.client.api_keys.create(request=bearer("reader", ApiKeyPermissions(inbox_read=True)))
    as_reader = sandbox.sdk(reader.api_key)
    assert as_reader.inboxes.list().count == 0
    with raises_api_error(403, "missing_permission"):
        as_reader.inboxes.create()
    with raises_api_error(403, "missing_permission"):
        as_reader.pods.create(name="nope")
    with raises_api_error(403, "missing_permission"):
        as_reader.domains.list()
    with raises_api_error(403, "missing_permission"):
        as_reader.api_keys.list()
    with raises_api_error(403, "missing_permission"):  # even a key with no more than its own rights
        as_reader.api_keys.create(request=bearer("sub", ApiKeyPermissions(inbox_read=True)))
    assert sandbox.client.inboxes.list().count == 0


def test_pod_key_cannot_create_org_keys_or_keys_for_other_pods(sandbox: Sandbox) -> None:
    pod, other = sandbox.client.pods.create(name="p"), sandbox.client.pods.create(name="o")
    as_pod = sandbox.sdk(sandbox.client.pods.api_keys.create(pod.pod_id, request=bearer("pk")).api_key)
    with raises_api_error(403, "forbidden"):
        as_pod.api_keys.create(request=bearer("org-from-pod"))
    with raises_api_error(404, "not_found"):
        as_pod.pods.api_keys.create(other.pod_id, request=bearer("sideways"))
    assert as_pod.pods.api_keys.create(pod.pod_id, request=bearer("sibling")).pod_id == pod.pod_id


def test_restricted_key_cannot_restrict_an_unrestricted_key(sandbox: Sandbox) -> None:
    open_key = sandbox.client.api_keys.create(request=bearer("open"))
    limited = sandbox.client.api_keys.create(
        request=bearer("limited", ApiKeyPermissions(api_key_update=True, api_key_read=True, inbox_read=True))
    )
    with raises_api_error(403, "unrestricted_key_required"):
        sandbox.sdk(limited.api_key).api_keys.update(
            open_key.api_key_id, permissions=ApiKeyPermissions(inbox_read=True)
        )
    assert sandbox.client.api_keys.get(open_key.api_key_id).permissions is None


def test_inbox_key_never_creates_inboxes_even_if_permitted(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create()
    key = sandbox.client.inboxes.api_keys.create(
        inbox.inbox_id, request=bearer("ik", ApiKeyPermissions(inbox_create=True, inbox_read=True))
    )
    with raises_api_error(403):
        sandbox.sdk(key.api_key).inboxes.create()
    assert sandbox.client.inboxes.list().count == 1


@pytest.mark.parametrize("expires_at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"])
@pytest.mark.parametrize("scope", ["org", "pod", "inbox"])
def test_an_expiry_out_of_range_in_utc_is_400_on_every_route(sandbox: Sandbox, scope: str, expires_at: str) -> None:
    pod = sandbox.client.pods.create(name="dates")
    inbox = sandbox.client.pods.inboxes.create(pod.pod_id, username="dates")
    path = {"org": "/v0/api-keys", "pod": f"/v0/pods/{pod.pod_id}/api-keys"}.get(
        scope, f"/v0/inboxes/{inbox.inbox_id}/api-keys"
    )
    response = sandbox.http.post(path, json={"name": "far", "expires_at": expires_at}, headers=auth(ORG_KEY))
    assert (response.status_code, response.json()["code"]) == (400, "validation_error"), response.text
    assert response.json()["errors"][0]["path"] == "expires_at"


def _keys_everywhere(sandbox: Sandbox) -> tuple[str, str, str, str, str, str]:
    """A pod with an inbox and a key at each level: their ids, then how many keys the org lists."""
    c = sandbox.client
    pod = c.pods.create(name="keys").pod_id
    inbox = c.pods.inboxes.create(pod, username="keyed").inbox_id
    org_key = c.api_keys.create(request=bearer("org-level")).api_key_id
    pod_key = c.pods.api_keys.create(pod, request=bearer("pod-level")).api_key_id
    inbox_key = c.inboxes.api_keys.create(inbox, request=bearer("inbox-level")).api_key_id
    return pod, inbox, org_key, pod_key, inbox_key, c.api_keys.list().count


def test_every_key_route_needs_its_key_permission(sandbox: Sandbox) -> None:
    """Reading, renaming and deleting keys each need their flag, at every level (§3.2): a key
    allowed only inbox_read gets 403 missing_permission, and nothing changes."""
    pod, inbox, org_key, pod_key, inbox_key, count = _keys_everywhere(sandbox)
    reader = sandbox.sdk(
        sandbox.client.api_keys.create(request=bearer("reader", ApiKeyPermissions(inbox_read=True))).api_key
    )
    for call in (
        lambda: reader.api_keys.get(org_key),
        lambda: reader.api_keys.update(org_key, name="renamed"),
        lambda: reader.api_keys.delete(org_key),
        lambda: reader.pods.api_keys.list(pod),
        lambda: reader.pods.api_keys.update(pod, pod_key, name="renamed"),
        lambda: reader.pods.api_keys.delete(pod, pod_key),
        lambda: reader.inboxes.api_keys.list(inbox),
        lambda: reader.inboxes.api_keys.update(inbox, inbox_key, name="renamed"),
        lambda: reader.inboxes.api_keys.delete(inbox, inbox_key),
    ):
        with raises_api_error(403, "missing_permission"):
            call()
    names = {k.name for k in sandbox.client.api_keys.list().api_keys}
    assert {"org-level", "pod-level", "inbox-level"} <= names and sandbox.client.api_keys.list().count == count + 1


def test_inbox_key_cannot_manage_keys(sandbox: Sandbox) -> None:
    """§11 Q12: every key-management route with an inbox-scoped key is 403 forbidden, its own
    inbox's keys included."""
    pod, inbox, org_key, pod_key, inbox_key, count = _keys_everywhere(sandbox)
    as_inbox = sandbox.sdk(sandbox.client.inboxes.api_keys.create(inbox, request=bearer("scoped")).api_key)
    for call in (
        lambda: as_inbox.api_keys.list(),
        lambda: as_inbox.api_keys.create(request=bearer("org")),
        lambda: as_inbox.api_keys.get(inbox_key),
        lambda: as_inbox.api_keys.update(inbox_key, name="renamed"),
        lambda: as_inbox.api_keys.delete(inbox_key),
        lambda: as_inbox.inboxes.api_keys.list(inbox),
        lambda: as_inbox.inboxes.api_keys.create(inbox, request=bearer("more")),
        lambda: as_inbox.inboxes.api_keys.update(inbox, inbox_key, name="renamed"),
        lambda: as_inbox.inboxes.api_keys.delete(inbox, inbox_key),
    ):
        with raises_api_error(403, "forbidden"):
            call()
    assert sandbox.client.api_keys.list().count == count + 1
    assert sandbox.client.api_keys.get(inbox_key).name == "inbox-level"
