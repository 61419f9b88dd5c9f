"""What the mutation sweep of ``api/writer.py`` found unpinned: each test names the line whose
deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/api/writer.py ... tests/unit/api/test_writer_sweep.py``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mailctl.api.client import AgentMailClient
from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.errors import Deferred, InvalidRequest, MailctlError, TransientError, UnexpectedResponse
from mailctl.kinds.base import replaced_name
from mailctl.plan.changes import UPDATE, AttributeChange, Change
from mailctl.resources import (
    API_KEY,
    DOMAIN,
    INBOX,
    POD,
    WEBHOOK,
    Resource,
    WriteOnly,
    api_key_address,
    domain_address,
    inbox_address,
    pod_address,
    webhook_address,
)
from mailctl.sandbox import create_app
from mailctl.secrets import SecretSink, pending_name

KEY = "am_writer_sweep_test_org_key_0123456789"
POD_T = Resource(POD, pod_address("t"), {"name": "T"})
DOMAIN_T = Resource(DOMAIN, domain_address("mail.t.example", pod="t"), {}, parent=POD_T.address)
ORG_KEY = Resource(API_KEY, api_key_address("backend"), {})
INBOX_T = Resource(INBOX, inbox_address("t", "t-a@agentmail.to"), {}, parent=POD_T.address)

Rewrite = Callable[[httpx.Request, dict[str, Any]], dict[str, Any]]


class _Recording(httpx.WSGITransport):
    """The in-process sandbox; records ``METHOD path`` of each request and may rewrite answers."""

    def __init__(self, app: Any) -> None:
        super().__init__(app=app)
        self.sent: list[str] = []
        self.rewrite: Rewrite | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(f"{request.method} {request.url.path}")
        response = super().handle_request(request)
        if self.rewrite is None or not response.headers.get("content-type", "").startswith("application/json"):
            return response
        response.read()
        body = self.rewrite(request, response.json())
        return httpx.Response(response.status_code, json=body)


@dataclass
class Api:
    http: httpx.Client  # the test's own view of the organisation
    transport: _Recording
    app: Any

    def client(self) -> AgentMailClient:
        return AgentMailClient("http://sandbox", KEY, transport=self.transport, sleep=lambda s: None)

    def writer(self, ids: dict[str, str] | None = None, **knobs: Any) -> ApiWriter:
        return ApiWriter(self.client(), IdRegistry(ids or {}), **knobs)

    def other_writer(self) -> ApiWriter:
        """Another shard's writer on the same organisation (its own ids)."""
        transport = httpx.WSGITransport(app=self.app)
        return ApiWriter(AgentMailClient("http://sandbox", KEY, transport=transport), IdRegistry({}))

    def key_names(self) -> list[str]:
        rows = self.http.get("/v0/api-keys").json()["api_keys"]
        return sorted(r["name"] for r in rows if r["name"] != "sandbox bootstrap key")


def _api(**knobs: Any) -> Iterator[Api]:
    app = create_app(api_keys=(KEY,), **knobs)
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers=headers) as http:
        yield Api(http, _Recording(app), app)


@pytest.fixture
def api() -> Iterator[Api]:
    yield from _api()


@pytest.fixture
def manual() -> Iterator[Api]:
    """Domains verify only once their DNS records are published (``/_sandbox/domains/.../dns``)."""
    yield from _api(domain_verification="manual")


# -- IdRegistry ------------------------------------------------------------------------------------


def test_a_create_naming_a_pod_whose_id_is_unknown_sends_nothing(api: Api) -> None:
    """``raise KeyError(address)`` in ``IdRegistry.__getitem__``: without it an unknown id reads
    as None and a webhook scoped to a pod nobody created is POSTed with ``pod_ids: [None]``."""
    hook = Resource(
        WEBHOOK,
        webhook_address("audit"),
        {"url": "https://x.test/h", "event_types": ["message.received"], "pods": ["ghost"]},
    )
    with pytest.raises(KeyError, match="pod/ghost"):
        api.writer().create(hook)
    assert not [line for line in api.transport.sent if line.startswith("POST")]


def test_a_delete_forgets_the_id_of_what_it_deleted(api: Api) -> None:
    """``self._ids.pop(address, None)`` in ``IdRegistry.forget`` (and its ``with``), and
    ``self.ids.forget(...)`` in ``delete``: without them a deleted pod's id stays known, and a
    later create in it is sent to a pod that is gone instead of stopping as "id not known here"."""
    writer = api.writer()
    writer.create(POD_T)
    assert writer.ids.get(POD_T.address) is not None
    writer.delete(POD_T)
    assert writer.ids.get(POD_T.address) is None


# -- create ----------------------------------------------------------------------------------------


def test_a_create_first_replacement_marks_the_old_key_before_making_the_new_one(api: Api, tmp_path: Any) -> None:
    """``mark = spec.rename(replaced_name(...))`` and its PATCH in ``create``: without them the
    old key keeps the declared name next to the new one, and a run stopped before the old one's
    delete leaves two keys named ``backend`` that no machine can tell apart."""
    old_id = api.http.post("/v0/api-keys", json={"name": "backend"}).json()["api_key_id"]
    old = Resource(API_KEY, ORG_KEY.address, {}, remote_id=old_id)
    api.writer(secrets=SecretSink(tmp_path / "s.json")).create(ORG_KEY, replacing=old)
    rows = {r["api_key_id"]: r["name"] for r in api.http.get("/v0/api-keys").json()["api_keys"]}
    assert rows[old_id] == replaced_name("backend")
    assert api.key_names() == sorted(["backend", replaced_name("backend")])
    assert api.transport.sent.index(f"PATCH /v0/api-keys/{old_id}") < api.transport.sent.index("POST /v0/api-keys")


def test_a_create_never_sends_a_header_value_it_does_not_know(api: Api) -> None:
    """``_require_values(resource)`` in ``create``: without it a webhook whose header value was
    read back from a plan file (unknown here) is created with that header empty. (Also pinned by
    tests/unit/config/test_webhook_headers_config.py, outside the sweep's test list.)"""
    hook = Resource(WEBHOOK, webhook_address("audit"), {"url": "https://x.test/h", "event_types": ["message.received"]})
    with pytest.raises(MailctlError, match=r"headers\.X-A is not known here; nothing was sent"):
        api.writer().create(_hook_with_header(hook, WriteOnly(env="HOOK_TOKEN")))
    assert api.transport.sent == []


def test_a_create_answered_with_another_object_builds_nothing_on_it(api: Api) -> None:
    """``_check_is_the_one_sent(...)`` in ``create``: without it an answer naming another pod (a
    proxy's, another tenant's) is trusted, and this apply records its id as the pod's."""

    def elsewhere(request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.method == "POST" and request.url.path == "/v0/pods":
            return {**body, "client_id": "someone-elses-pod", "pod_id": "pod-of-someone-else"}
        return body

    api.transport.rewrite = elsewhere
    writer = api.writer()
    with pytest.raises(UnexpectedResponse, match="the answer is another object"):
        writer.create(POD_T)
    assert writer.ids.get(POD_T.address) is None


def test_what_a_create_cannot_set_is_patched_right_after_it(api: Api) -> None:
    """``self.client.patch(item_path(...), late)`` in ``create``: without it a webhook declared
    ``enabled: false`` is created enabled (a create cannot disable it) and delivers events."""
    hook = Resource(
        WEBHOOK,
        webhook_address("audit"),
        {"url": "https://x.test/h", "event_types": ["message.received"], "enabled": False},
    )
    writer = api.writer()
    writer.create(hook)
    webhook_id = writer.ids[hook.address]
    assert api.http.get(f"/v0/webhooks/{webhook_id}").json()["enabled"] is False


# -- the two-phase key create ----------------------------------------------------------------------


def _arm(api: Api, method: str, route: str, status: int, when: str, times: int = 1) -> None:
    body = {"method": method, "route": route, "status": status, "code": "injected", "when": when, "times": times}
    assert api.http.post("/_sandbox/faults", json=body).status_code == 200


def test_a_key_without_a_secret_sink_is_refused_before_it_is_made(api: Api) -> None:
    """``raise MailctlError(... no secret sink ...)`` in ``_create_with_secret``: without it the
    key is created and then nobody can record its secret (it is left behind, pending)."""
    with pytest.raises(MailctlError, match="no secret sink"):
        api.writer().create(ORG_KEY)
    assert "POST /v0/api-keys" not in api.transport.sent
    assert api.key_names() == []


def test_a_key_answer_without_its_secret_records_nothing_and_names_no_key(api: Api, tmp_path: Any) -> None:
    """``_require_secret(...)`` in ``_create_with_secret``: without it an answer that lacks the
    secret is recorded as a record with secret null, and the key takes its declared name."""

    def no_secret(request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.method == "POST" and request.url.path == "/v0/api-keys":
            return {k: v for k, v in body.items() if k != "api_key"}
        return body

    api.transport.rewrite = no_secret
    sink = tmp_path / "s.json"
    with pytest.raises(UnexpectedResponse, match="no text 'api_key_id' and 'api_key'"):
        api.writer(secrets=SecretSink(sink)).create(ORG_KEY)
    assert not sink.exists() or json.loads(sink.read_text() or "[]") == []
    assert api.key_names() == []  # its id was known: deleted


def test_a_named_key_is_known_by_its_id(api: Api, tmp_path: Any) -> None:
    """``self.ids.set(key.address, created["api_key_id"])`` in ``_create_with_secret``: without it
    the new key's id is unknown to the rest of the apply (a create-first replacement's delete of
    the old half would then forget nothing, and the report has no id)."""
    writer = api.writer(secrets=SecretSink(tmp_path / "s.json"))
    writer.create(ORG_KEY)
    [row] = [r for r in api.http.get("/v0/api-keys").json()["api_keys"] if r["name"] == "backend"]
    assert writer.ids.get(ORG_KEY.address) == row["api_key_id"]


def test_a_key_create_refused_unprocessed_is_not_cleaned_up_or_tried_again(api: Api, tmp_path: Any) -> None:
    """``if not exc.ambiguous: raise`` in ``_post_pending_key``: a create the API refused without
    processing it (429 after every retry) made no key; without the ``raise`` each refusal lists
    the keys to clean up and starts another round of attempts against the same rate limit."""
    _arm(api, "POST", "/v0/api-keys", 429, "before", times=1000)
    with pytest.raises(TransientError) as caught:
        api.writer(secrets=SecretSink(tmp_path / "s.json")).create(ORG_KEY)
    assert not caught.value.ambiguous
    assert "GET /v0/api-keys" not in api.transport.sent
    assert api.key_names() == []


def _keys_at(api: Api, path: str) -> list[tuple[str, str]]:
    rows = api.http.get(path).json()["api_keys"]
    return sorted((r.get("inbox_id") or "", r["name"]) for r in rows if r["name"] != "sandbox bootstrap key")


def test_cleanup_after_an_ambiguous_pod_key_create_deletes_its_own_pending_key_only(api: Api, tmp_path: Any) -> None:
    """``if parent_of(parent) is None:`` and its ``return`` in ``_same_scope``: a lost create of a
    pod's key is cleaned up by deleting the pod's pending key (not an inbox's of that pod); without
    them the lost attempt's key is left behind next to the named one."""
    writer = api.writer(secrets=SecretSink(tmp_path / "s.json"))
    writer.create(POD_T)
    writer.create(INBOX_T)
    pod_id = writer.ids[POD_T.address]
    api.http.post("/v0/inboxes/t-a@agentmail.to/api-keys", json={"name": pending_name("backend")})
    _arm(api, "POST", "/v0/pods/{pod_id}/api-keys", 500, "after")
    writer.create(Resource(API_KEY, api_key_address("backend", pod="t"), {}, parent=POD_T.address))
    assert ("", pending_name("backend")) not in _keys_at(api, f"/v0/pods/{pod_id}/api-keys")
    assert ("", "backend") in _keys_at(api, f"/v0/pods/{pod_id}/api-keys")
    assert _keys_at(api, "/v0/inboxes/t-a@agentmail.to/api-keys") == [("t-a@agentmail.to", pending_name("backend"))]


def test_cleanup_after_an_ambiguous_inbox_key_create_deletes_its_pending_key(api: Api, tmp_path: Any) -> None:
    """The inbox ``return`` of ``_same_scope``: without it the pending key of a lost create of an
    inbox's key is never recognised as this scope's, and stays behind."""
    writer = api.writer(secrets=SecretSink(tmp_path / "s.json"))
    writer.create(POD_T)
    writer.create(INBOX_T)
    _arm(api, "POST", "/v0/inboxes/{inbox_id}/api-keys", 500, "after")
    key = Resource(API_KEY, api_key_address("agent", pod="t", inbox="t-a@agentmail.to"), {}, parent=INBOX_T.address)
    writer.create(key)
    assert _keys_at(api, "/v0/inboxes/t-a@agentmail.to/api-keys") == [("t-a@agentmail.to", "agent")]


# -- await_created ---------------------------------------------------------------------------------


def test_a_domain_another_shard_made_and_verified_is_found(api: Api) -> None:
    """``if spec.verified:`` and the GET of the item's status below it in ``await_created``:
    without either, a domain's list row (no status) never reads VERIFIED and a verified domain of
    another shard defers everything on it."""
    other = api.other_writer()
    other.create(POD_T)
    other.create(DOMAIN_T)  # auto verification: verified once it has started
    this = api.writer()
    this.await_created(DOMAIN_T, "2/2")
    assert this.ids.get(DOMAIN_T.address) == other.ids[DOMAIN_T.address]


def test_a_domain_another_shard_made_but_not_verified_is_deferred_with_its_status(manual: Api) -> None:
    """The status read for a kind that must be verified: a domain created but not verified is
    waited for, then deferred with the status the API gave."""
    other = manual.other_writer()
    other.create(POD_T)
    other.create(DOMAIN_T)
    seen: list[str] = []
    this = manual.writer(on_shard_wait=lambda address, status, waited: seen.append(status))
    with pytest.raises(Deferred) as caught:
        this.await_created(DOMAIN_T, "2/2")
    assert caught.value.shard == "2/2"
    assert str(caught.value).startswith("PENDING: shard 2/2 creates it")
    assert seen == ["PENDING, made by shard 2/2"]


def test_a_key_another_shard_made_is_found_by_its_name(api: Api, tmp_path: Any) -> None:
    """``identity = spec.identity(resource)`` and its ``return row`` in ``_find``: a kind without a
    client_id (an API key) is found by its identity; without them a key another shard made is
    never found (or the lookup crashes) and everything that waits on it is deferred."""
    other = api.other_writer()
    other.secrets = SecretSink(tmp_path / "other.json")
    other.create(ORG_KEY)
    this = api.writer()
    this.await_created(ORG_KEY, "1/2")
    assert this.ids.get(ORG_KEY.address) == other.ids[ORG_KEY.address]


def test_a_scope_whose_id_is_known_is_not_looked_up_again(api: Api) -> None:
    """``continue`` in ``_locate_scopes``: a pod this apply already knows is not listed again at
    every poll (a listing of every pod per poll, at thousands of pods, is the rate limit)."""
    other = api.other_writer()
    other.create(POD_T)
    other.create(INBOX_T)
    this = api.writer({POD_T.address: other.ids[POD_T.address]})
    this.await_created(INBOX_T, "2/2")
    assert "GET /v0/pods" not in api.transport.sent
    assert this.ids.get(INBOX_T.address) == "t-a@agentmail.to"


AUDIT_OF_T = Resource(  # an organisation webhook of pod t's events
    WEBHOOK, webhook_address("audit"), {"url": "https://x.test/h", "event_types": ["message.received"], "pods": ["t"]}
)


def test_a_webhook_is_created_scoped_to_the_ids_of_the_pods_and_inboxes_it_names(api: Api) -> None:
    """``_remote_id`` (``spec = spec_of(kind)`` and its ``return``): without it a webhook's
    ``pods`` are sent as nothing instead of the pods' ids, and it delivers every pod's events."""
    writer = api.writer()
    writer.create(POD_T)
    writer.create(INBOX_T)
    hook = AUDIT_OF_T
    writer.create(hook)
    in_pod = Resource(
        WEBHOOK,
        webhook_address("bot", pod="t"),
        {"url": "https://x.test/h", "event_types": ["message.received"], "inboxes": ["t-a@agentmail.to"]},
        parent=POD_T.address,
    )
    writer.create(in_pod)
    assert api.http.get(f"/v0/webhooks/{writer.ids[hook.address]}").json()["pod_ids"] == [writer.ids[POD_T.address]]
    pod_id = writer.ids[POD_T.address]
    row = api.http.get(f"/v0/pods/{pod_id}/webhooks/{writer.ids[in_pod.address]}").json()
    assert row["inbox_ids"] == ["t-a@agentmail.to"]


def test_an_update_adds_a_pod_to_a_webhook_by_the_pods_id(api: Api) -> None:
    """``_known_remote_id`` (``spec = spec_of(kind)`` and its ``return``): without it the pod a
    webhook's update adds is sent as nothing instead of the pod's id."""
    writer = api.writer()
    writer.create(POD_T)
    hook = AUDIT_OF_T
    writer.create(hook)
    other = Resource(POD, pod_address("u"), {"name": "U"})
    writer.create(other)
    webhook_id = writer.ids[hook.address]
    want = Resource(WEBHOOK, hook.address, {**hook.attrs, "pods": ["t", "u"]})
    writer.update(_update(want, Resource(WEBHOOK, hook.address, hook.attrs, remote_id=webhook_id), "pods"))
    got = api.http.get(f"/v0/webhooks/{webhook_id}").json()["pod_ids"]
    assert sorted(got) == sorted([writer.ids[POD_T.address], writer.ids[other.address]])


# -- update ----------------------------------------------------------------------------------------


def _update(desired: Resource, actual: Resource, *paths: str, moved_from: str | None = None) -> Change:
    diff = [AttributeChange(path, None, None) for path in paths]
    return Change(UPDATE, desired.address, desired=desired, actual=actual, diff=diff, moved_from=moved_from)


def test_an_update_patches_the_changed_attributes(api: Api) -> None:
    """The body of ``update`` (``changed``, ``body``, ``update_body``, ``item_path``, ``if body:``
    and its PATCH): without any of them a changed display name is never sent."""
    writer = api.writer()
    writer.create(POD_T)
    writer.create(INBOX_T)
    want = Resource(INBOX, INBOX_T.address, {"display_name": "Support"}, parent=POD_T.address)
    have = Resource(INBOX, INBOX_T.address, {}, parent=POD_T.address, remote_id="t-a@agentmail.to")
    writer.update(_update(want, have, "display_name"))
    pod_id = writer.ids[POD_T.address]
    assert api.http.get(f"/v0/pods/{pod_id}/inboxes/t-a@agentmail.to").json()["display_name"] == "Support"


def test_an_update_with_nothing_for_the_item_sends_no_empty_patch(api: Api) -> None:
    """``if body:`` in ``update``: a change whose only difference is at a sub-route (webhook
    headers) sends no PATCH of the item with an empty body."""
    writer = api.writer()
    hook = Resource(WEBHOOK, webhook_address("audit"), {"url": "https://x.test/h", "event_types": ["message.received"]})
    writer.create(hook)
    webhook_id = writer.ids[hook.address]
    api.transport.sent.clear()
    want = _hook_with_header(hook, WriteOnly("hdr-value-sweep"))
    have = Resource(WEBHOOK, hook.address, {**hook.attrs, "headers": []}, remote_id=webhook_id)
    writer.update(_update(want, have, "headers"))
    assert api.transport.sent == [f"PATCH /v0/webhooks/{webhook_id}/headers"]
    assert api.http.get(f"/v0/webhooks/{webhook_id}/headers").json()["header_names"] == ["X-A"]


def test_an_update_never_sends_a_header_value_it_does_not_know(api: Api) -> None:
    """``_require_values(...)`` in ``update``: without it a header value read back from a plan
    file (unknown here) is PATCHed as nothing, and the webhook delivers without it."""
    writer = api.writer()
    hook = Resource(WEBHOOK, webhook_address("audit"), {"url": "https://x.test/h", "event_types": ["message.received"]})
    writer.create(hook)
    webhook_id = writer.ids[hook.address]
    api.transport.sent.clear()
    want = _hook_with_header(hook, WriteOnly(env="HOOK_TOKEN"))  # its value is not known here
    have = Resource(WEBHOOK, hook.address, {**hook.attrs, "headers": []}, remote_id=webhook_id)
    with pytest.raises(MailctlError, match=r"headers\.X-A is not known here; nothing was sent"):
        writer.update(_update(want, have, "headers"))
    assert api.transport.sent == []


def test_an_update_refused_for_an_unknown_header_value_sends_nothing_at_all(api: Api) -> None:
    """The order of ``if body: self.client.patch(path, body)`` and ``_require_values(...)`` in
    ``update``: a refusal that says "nothing was sent" must mean it, not half an update."""
    writer = api.writer()
    hook = Resource(WEBHOOK, webhook_address("audit"), {"url": "https://x.test/h", "event_types": ["message.received"]})
    writer.create(hook)
    webhook_id = writer.ids[hook.address]
    api.transport.sent.clear()
    want = _hook_with_header(hook, WriteOnly(env="HOOK_TOKEN"))
    want.attrs["enabled"] = False
    have = Resource(WEBHOOK, hook.address, {**hook.attrs, "headers": [], "enabled": True}, remote_id=webhook_id)
    with pytest.raises(MailctlError, match="nothing was sent"):
        writer.update(_update(want, have, "enabled", "headers"))
    assert api.transport.sent == []
    assert api.http.get(f"/v0/webhooks/{webhook_id}").json()["enabled"] is True


def test_a_moved_key_is_renamed_in_place_and_known_under_its_new_address(api: Api) -> None:
    """``if change.moved_from ...``, ``changed.discard("name")``, ``body = spec.rename(...)`` and
    ``self.ids.set(...)`` in ``update``: without them a ``moved`` key is not renamed (or renamed
    to nothing), or its id is unknown under its new address for the rest of the apply."""
    key_id = api.http.post("/v0/api-keys", json={"name": "old"}).json()["api_key_id"]
    want = Resource(API_KEY, api_key_address("new"), {})
    have = Resource(API_KEY, api_key_address("old"), {}, remote_id=key_id)
    writer = api.writer({have.address: key_id})
    writer.update(_update(want, have, "name", moved_from=have.address))
    assert api.key_names() == ["new"]
    assert writer.ids.get(want.address) == key_id


# -- delete ----------------------------------------------------------------------------------------


def test_a_delete_deletes_and_a_second_one_is_a_no_op(api: Api) -> None:
    """``self.client.delete(...)`` and ``except NotFound: pass`` in ``delete``: without the call
    nothing is deleted; a delete of what is already gone reaches its goal, it does not fail."""
    writer = api.writer()
    writer.create(POD_T)
    pod_id = writer.ids[POD_T.address]
    gone = Resource(POD, POD_T.address, POD_T.attrs, remote_id=pod_id)
    writer.delete(gone)
    assert api.http.get(f"/v0/pods/{pod_id}").status_code == 404
    writer.delete(gone)


def test_deleting_the_replaced_half_keeps_the_id_of_its_successor(api: Api, tmp_path: Any) -> None:
    """``if resource.remote_id is None or self.ids.get(...) == resource.remote_id:`` in ``delete``:
    after a create-first replacement the address holds the new key's id; deleting the old key
    must not forget it (later steps would not find the new key)."""
    old_id = api.http.post("/v0/api-keys", json={"name": "backend"}).json()["api_key_id"]
    old = Resource(API_KEY, ORG_KEY.address, {}, remote_id=old_id)
    writer = api.writer({ORG_KEY.address: old_id}, secrets=SecretSink(tmp_path / "s.json"))
    writer.create(ORG_KEY, replacing=old)
    new_id = writer.ids[ORG_KEY.address]
    assert new_id != old_id
    writer.delete(old)
    assert writer.ids.get(ORG_KEY.address) == new_id
    assert api.key_names() == ["backend"]


def _hook_with_header(hook: Resource, value: WriteOnly) -> Resource:
    want = Resource(WEBHOOK, hook.address, {**hook.attrs, "headers": ["x-a"]})
    want.write_only = {"headers": {"X-A": value}}
    return want


# -- inboxes on a custom domain --------------------------------------------------------------------


def _inbox(email: str) -> Resource:
    return Resource(INBOX, inbox_address("t", email), {}, parent=POD_T.address)


def test_a_domain_found_unverified_defers_the_next_inbox_without_asking_the_api_again(manual: Api) -> None:
    """``self._require_verified_domain(inbox)`` under ``if known is False:`` in ``_create_on_domain``:
    without it every further inbox on a domain already found unverified is POSTed (and refused)
    again before it is deferred."""
    writer = manual.writer()
    writer.create(POD_T)
    writer.create(DOMAIN_T)
    with pytest.raises(Deferred, match="mail.t.example is not verified"):
        writer.create(_inbox("a@mail.t.example"))
    manual.transport.sent.clear()
    with pytest.raises(Deferred, match="mail.t.example is not verified"):
        writer.create(_inbox("b@mail.t.example"))
    assert not [line for line in manual.transport.sent if line.startswith("POST")]


def _assert_refused_once(api: Api, writer: ApiWriter, status: int, address: str) -> None:
    """The inbox create is answered ``status`` once: the refusal is raised, the create sent once."""
    _arm(api, "POST", "/v0/pods/{pod_id}/inboxes", status, "before")
    api.transport.sent.clear()
    with pytest.raises(InvalidRequest):
        writer.create(_inbox(address))
    assert api.transport.sent == [f"POST /v0/pods/{writer.ids[POD_T.address]}/inboxes"]


def test_an_inbox_create_refused_for_another_reason_is_reported_not_retried(api: Api) -> None:
    """``raise`` under ``if address is None or known or exc.status != 422:`` in
    ``_create_on_domain``: a refusal that is not "domain unverified" (a 400) is the answer; without
    the ``raise`` the create is sent a second time (and the domain's status read for nothing)."""
    writer = api.writer()
    writer.create(POD_T)
    writer.create(DOMAIN_T)
    _assert_refused_once(api, writer, 400, "a@mail.t.example")


def test_once_an_inbox_landed_on_a_domain_a_422_is_the_answer(api: Api) -> None:
    """``if address is not None:`` and ``self._verified[address] = True`` (with its ``with``) in
    ``_create_on_domain``: a domain an inbox was just created on is verified; without the record a
    later 422 on it reads the domain's status and sends the create a second time."""
    writer = api.writer()
    writer.create(POD_T)
    writer.create(DOMAIN_T)
    writer.create(_inbox("a@mail.t.example"))
    _assert_refused_once(api, writer, 422, "b@mail.t.example")


def test_a_wait_that_ran_its_course_says_how_long_without_calling_it_interrupted(manual: Api) -> None:
    """``return f"{self.domain_wait:g}s"`` in ``_waited_text``: without it a wait that lasted its
    whole ``--wait-for-domains`` is reported as "the wait was interrupted"."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    writer = manual.writer(domain_wait=5.0, poll_interval=2.0, sleep=sleep, clock=lambda: now[0])
    writer.create(POD_T)
    writer.create(DOMAIN_T)
    with pytest.raises(Deferred) as caught:
        writer.create(_inbox("a@mail.t.example"))
    assert "is not verified after waiting 5s: publish its DNS records" in str(caught.value)
    assert "interrupted" not in str(caught.value)


def test_a_domain_whose_verification_was_never_started_is_started_and_read_again(api: Api) -> None:
    """``status = self.client.get(path).get("status")`` after ``_start_verification`` in
    ``_poll_verified``: a domain made elsewhere, never verified, verifies once started; without
    the second read the stale PENDING stands and the inbox is deferred for nothing."""
    writer = api.writer()
    writer.create(POD_T)
    pod_id = writer.ids[POD_T.address]
    domain_id = api.http.post(f"/v0/pods/{pod_id}/domains", json={"domain": "mail.t.example"}).json()["domain_id"]
    writer.ids.set(DOMAIN_T.address, domain_id)
    seen: list[str] = []
    writer.on_wait = lambda domain, status, waited: seen.append(status)
    writer.create(_inbox("a@mail.t.example"))  # domain_wait 0: one poll, no sleep
    assert seen == ["VERIFIED"]
    assert api.http.get(f"/v0/pods/{pod_id}/inboxes/a@mail.t.example").status_code == 200


# -- starting a verification -----------------------------------------------------------------------

VERIFY = "/v0/pods/{pod_id}/domains/{domain_id}/verify"


def test_a_verification_already_running_is_no_failure(api: Api) -> None:
    """``if exc.status != 409:`` in ``_start_verification``: negated, the 409 of a verification
    already running fails the domain's create (after the domain was made)."""
    writer = api.writer()
    writer.create(POD_T)
    _arm(api, "POST", VERIFY, 409, "before")
    writer.create(DOMAIN_T)
    assert writer.ids.get(DOMAIN_T.address) == "mail.t.example"


def test_a_verification_refused_for_another_reason_is_reported(api: Api) -> None:
    """``raise`` in ``_start_verification``: without it a refused verification is swallowed and
    the domain's create reports success though its verification never started."""
    writer = api.writer()
    writer.create(POD_T)
    _arm(api, "POST", VERIFY, 400, "before")
    with pytest.raises(InvalidRequest):
        writer.create(DOMAIN_T)


def test_a_domain_create_answered_with_another_domain_builds_nothing_on_it(api: Api) -> None:
    """``expected.update(... spec.identity(resource) ...)`` in ``_check_is_the_one_sent``: the name a
    create sends (a domain's) must come back; without it only the client_id is compared and an
    answer for another domain is recorded as this one."""

    def elsewhere(request: httpx.Request, body: dict[str, Any]) -> dict[str, Any]:
        if request.method == "POST" and request.url.path.endswith("/domains"):
            return {**body, "domain": "mail.someone-else.example", "domain_id": "mail.someone-else.example"}
        return body

    writer = api.writer()
    writer.create(POD_T)
    api.transport.rewrite = elsewhere
    with pytest.raises(UnexpectedResponse, match="the answer is another object"):
        writer.create(DOMAIN_T)
    assert writer.ids.get(DOMAIN_T.address) is None
