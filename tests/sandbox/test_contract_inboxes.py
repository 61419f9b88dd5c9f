"""Inboxes on the org and pod routes (spec §7.2, §1.3, §11 Q2, Q17, Q18)."""

from __future__ import annotations

import time

import pytest
from agentmail.errors import NotFoundError, UnprocessableError, ValidationError
from agentmail.inboxes import CreateInboxRequest
from contract_harness import ORG_KEY, Sandbox, auth, raises_api_error


def test_inbox_created_without_a_body_gets_a_random_agentmail_address(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create()
    assert inbox.email == inbox.inbox_id and inbox.email.endswith("@agentmail.to")
    assert inbox.status is None and inbox.display_name is None and inbox.client_id is None


def test_inbox_echoes_its_create_fields(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create(
        request=CreateInboxRequest(
            username="support", display_name="Support Team", metadata={"tier": "gold", "seats": 3, "vip": True}
        )
    )
    assert (inbox.inbox_id, inbox.display_name) == ("support@agentmail.to", "Support Team")
    assert inbox.metadata == {"tier": "gold", "seats": 3, "vip": True}
    assert sandbox.client.inboxes.get(inbox.inbox_id) == inbox


def test_inbox_created_paused_reports_paused_and_active_omits_status(sandbox: Sandbox) -> None:
    paused = sandbox.client.inboxes.create(request=CreateInboxRequest(username="sleepy", status="paused"))
    assert paused.status == "paused"
    resumed = sandbox.client.inboxes.update(paused.inbox_id, status="active")
    assert resumed.status is None
    assert b'"status"' not in sandbox.exchanges[-1].content


def test_taken_address_is_403_resource_taken(sandbox: Sandbox) -> None:
    sandbox.client.inboxes.create(request=CreateInboxRequest(username="taken"))
    pod = sandbox.client.pods.create(name="other")
    with raises_api_error(403, "resource_taken") as info:
        sandbox.client.pods.inboxes.create(pod.pod_id, username="taken")
    assert info.value.body["name"] == "IsTakenError"


def test_inbox_display_name_update(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(username="renamed"))
    updated = sandbox.client.inboxes.update(inbox.inbox_id, display_name="New Name")
    assert updated.display_name == "New Name" and updated.inbox_id == inbox.inbox_id
    assert updated.created_at == inbox.created_at and updated.updated_at >= inbox.updated_at


def test_inbox_metadata_merges_and_null_removes(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(username="meta", metadata={"a": "1", "b": 2}))
    merged = sandbox.client.inboxes.update(inbox.inbox_id, metadata={"b": None, "c": True})
    assert merged.metadata == {"a": "1", "c": True}
    cleared = sandbox.client.inboxes.update(inbox.inbox_id, metadata=None)
    assert not cleared.metadata


def test_empty_inbox_update_is_400(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create()
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.inboxes.update(inbox.inbox_id)
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.inboxes.update(inbox.inbox_id, metadata={})


def test_metadata_is_limited_to_256_keys(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(metadata={f"k{i}": i for i in range(256)}))
    assert inbox.metadata is not None and len(inbox.metadata) == 256
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.inboxes.update(inbox.inbox_id, metadata={"one-more": True})


def test_explicit_null_display_name_is_400(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create()
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.inboxes.update(inbox.inbox_id, display_name=None)


def test_inbox_delete_then_get_and_delete_are_404(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create()
    sandbox.client.inboxes.delete(inbox.inbox_id)
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.inboxes.get(inbox.inbox_id)
    with raises_api_error(404, "not_found", NotFoundError):
        sandbox.client.inboxes.delete(inbox.inbox_id)


def test_inbox_ids_with_plus_and_at_work_raw_and_percent_encoded(sandbox: Sandbox) -> None:
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(username="a+b"))
    assert inbox.inbox_id == "a+b@agentmail.to"
    assert sandbox.client.inboxes.get("a+b@agentmail.to").inbox_id == inbox.inbox_id
    encoded = sandbox.http.get("/v0/inboxes/a%2Bb%40agentmail.to", headers=auth(ORG_KEY))
    assert encoded.status_code == 200 and encoded.json()["inbox_id"] == inbox.inbox_id


def test_pod_route_inbox_lifecycle(sandbox: Sandbox) -> None:
    pods = sandbox.client.pods
    pod = pods.create(name="team")
    inbox = pods.inboxes.create(pod.pod_id, username="team-desk", display_name="Desk", client_id="team-desk")
    assert inbox.pod_id == pod.pod_id and inbox.client_id == "team-desk"
    assert pods.inboxes.get(pod.pod_id, inbox.inbox_id) == inbox
    assert [i.inbox_id for i in pods.inboxes.list(pod.pod_id).inboxes] == [inbox.inbox_id]
    assert pods.inboxes.update(pod.pod_id, inbox.inbox_id, display_name="Front Desk").display_name == "Front Desk"
    pods.inboxes.delete(pod.pod_id, inbox.inbox_id)
    with raises_api_error(404, "not_found", NotFoundError):
        pods.inboxes.get(pod.pod_id, inbox.inbox_id)


def test_inboxes_never_move_between_pods(sandbox: Sandbox) -> None:
    pods = sandbox.client.pods
    home, elsewhere = pods.create(name="home"), pods.create(name="elsewhere")
    inbox = pods.inboxes.create(home.pod_id, username="stay")
    with raises_api_error(404, "not_found", NotFoundError):
        pods.inboxes.get(elsewhere.pod_id, inbox.inbox_id)
    with raises_api_error(404, "not_found"):
        pods.inboxes.update(elsewhere.pod_id, inbox.inbox_id, display_name="moved?")
    with raises_api_error(404, "not_found", NotFoundError):
        pods.inboxes.delete(elsewhere.pod_id, inbox.inbox_id)
    try:
        sandbox.client.inboxes.update(
            inbox.inbox_id,
            display_name="x",
            request_options={"additional_body_parameters": {"pod_id": elsewhere.pod_id}},
        )
    except ValidationError:
        pass  # rejecting the unknown field is as good as ignoring it
    assert sandbox.client.inboxes.get(inbox.inbox_id).pod_id == home.pod_id
    assert pods.inboxes.list(elsewhere.pod_id).count == 0


def test_search_matches_word_prefixes_exact_address_first(sandbox: Sandbox) -> None:
    for username, name in (("support", "Help Desk"), ("sales", "Support Sales"), ("billing", "Accounts")):
        sandbox.client.inboxes.create(request=CreateInboxRequest(username=username, display_name=name))
    found = sandbox.client.inboxes.search(q="sup").inboxes
    assert sorted(i.inbox_id for i in found) == ["sales@agentmail.to", "support@agentmail.to"]
    assert sandbox.client.inboxes.search(q="port").inboxes == []
    assert sandbox.client.inboxes.search(q="support@agentmail.to").inboxes[0].inbox_id == "support@agentmail.to"


def test_pod_search_only_sees_that_pod(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="searchable")
    sandbox.client.pods.inboxes.create(pod.pod_id, username="support-pod")
    sandbox.client.inboxes.create(request=CreateInboxRequest(username="support-org"))
    found = sandbox.client.pods.inboxes.search(pod.pod_id, q="support").inboxes
    assert [i.inbox_id for i in found] == ["support-pod@agentmail.to"]


@pytest.mark.parametrize("q", ["s", "x" * 257])
def test_search_query_length_is_validated(sandbox: Sandbox, q: str) -> None:
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.inboxes.search(q=q)


def test_search_limit_above_100_is_400(sandbox: Sandbox) -> None:
    with raises_api_error(400, "validation_error", ValidationError):
        sandbox.client.inboxes.search(q="support", limit=101)


def test_inbox_on_an_unknown_domain_is_422(sandbox: Sandbox) -> None:
    with raises_api_error(422, "unprocessable", UnprocessableError):
        sandbox.client.inboxes.create(request=CreateInboxRequest(username="x", domain="nowhere.example"))


def test_inbox_update_without_metadata_keeps_it(sandbox: Sandbox) -> None:
    """Without the `not body.has("metadata")` early return, renaming an inbox wiped its metadata."""
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(username="kept", metadata={"tier": "gold"}))
    renamed = sandbox.client.inboxes.update(inbox.inbox_id, display_name="Renamed")
    assert renamed.metadata == {"tier": "gold"}
    assert sandbox.client.inboxes.get(inbox.inbox_id).metadata == {"tier": "gold"}


def test_inbox_update_is_stored_and_advances_updated_at(sandbox: Sandbox) -> None:
    """Deleting `ctx.tx.update(row)` answered the change but never stored it; deleting the
    `updated_at` stamp left updated_at at the create time."""
    inbox = sandbox.client.inboxes.create(request=CreateInboxRequest(username="stamped", display_name="Old"))
    time.sleep(0.01)  # timestamps have millisecond precision
    updated = sandbox.client.inboxes.update(inbox.inbox_id, display_name="New", status="paused")
    assert updated.updated_at > inbox.updated_at and updated.created_at == inbox.created_at
    assert sandbox.client.inboxes.get(inbox.inbox_id) == updated
