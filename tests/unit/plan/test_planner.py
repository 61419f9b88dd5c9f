"""The planner is a pure function: these tests build states by hand, no API involved."""

from __future__ import annotations

import pytest

from mailctl.errors import PlanError
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE
from mailctl.plan.planner import plan
from mailctl.resources import (
    DOMAIN,
    INBOX,
    POD,
    ActualState,
    DesiredState,
    ManagePolicy,
    Resource,
    api_key_address,
    domain_address,
    inbox_address,
    pod_address,
)


def pod(client_id: str, **attrs: object) -> Resource:
    return Resource(
        POD, pod_address(client_id), dict(attrs), observed={"client_id": client_id}, remote_id=f"id-{client_id}"
    )


def inbox(pod_id: str, email: str, **attrs: object) -> Resource:
    return Resource(INBOX, inbox_address(pod_id, email), dict(attrs), parent=pod_address(pod_id), remote_id=email)


def state(cls: type, *resources: Resource, prefixes: tuple[str, ...] = ()) -> DesiredState | ActualState:
    s = cls(manage=ManagePolicy(prefixes)) if cls is DesiredState else cls()
    for r in resources:
        s.add(r)
    return s


def actions(p) -> dict[str, str]:
    return {c.address: c.action for c in p.changes}


def test_everything_declared_and_absent_is_created():
    desired = state(DesiredState, pod("tenant-a", name="A"), inbox("tenant-a", "x@agentmail.to"))
    p = plan(desired, ActualState())
    assert actions(p) == {"pod/tenant-a": CREATE, "pod/tenant-a/inbox/x@agentmail.to": CREATE}
    assert p.summary() == "Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy."


def test_identical_states_plan_no_changes():
    both = (pod("tenant-a", name="A"), inbox("tenant-a", "x@agentmail.to", display_name="X"))
    p = plan(state(DesiredState, *both), state(ActualState, *both))
    assert p.changes == [] and not p.has_changes


def test_undeclared_attributes_are_not_managed():
    desired = state(DesiredState, pod("tenant-a"), inbox("tenant-a", "x@agentmail.to"))
    actual = state(
        ActualState,
        pod("tenant-a", name="whatever"),
        inbox("tenant-a", "x@agentmail.to", display_name="Hand made", metadata={"k": 1}),
    )
    assert plan(desired, actual).changes == []


def test_mutable_attribute_change_is_an_in_place_update_with_attribute_diff():
    desired = state(
        DesiredState,
        pod("tenant-a"),
        inbox("tenant-a", "x@agentmail.to", display_name="New", metadata={"tier": "gold", "seats": 3}),
    )
    actual = state(
        ActualState,
        pod("tenant-a"),
        inbox("tenant-a", "x@agentmail.to", display_name="Old", metadata={"tier": "silver", "seats": 3.0, "old": True}),
    )
    (change,) = plan(desired, actual).changes
    assert change.action == UPDATE
    assert [(d.path, d.before, d.after) for d in change.diff] == [
        ("display_name", "Old", "New"),
        ("metadata.old", True, None),
        ("metadata.tier", "silver", "gold"),
    ]


def test_booleans_are_not_equal_to_numbers():
    desired = state(DesiredState, pod("tenant-a"), inbox("tenant-a", "x@agentmail.to", metadata={"flag": True}))
    actual = state(ActualState, pod("tenant-a"), inbox("tenant-a", "x@agentmail.to", metadata={"flag": 1}))
    assert actions(plan(desired, actual)) == {"pod/tenant-a/inbox/x@agentmail.to": UPDATE}


def test_pod_rename_forces_replacement_of_the_pod_and_everything_in_it():
    desired = state(DesiredState, pod("tenant-a", name="New"), inbox("tenant-a", "x@agentmail.to"))
    actual = state(
        ActualState,
        pod("tenant-a", name="Old"),
        inbox("tenant-a", "x@agentmail.to"),
        inbox("tenant-a", "gone@agentmail.to"),
    )
    p = plan(desired, actual)
    assert actions(p) == {
        "pod/tenant-a": REPLACE,
        "pod/tenant-a/inbox/x@agentmail.to": REPLACE,
        "pod/tenant-a/inbox/gone@agentmail.to": DELETE,
    }
    by = p.by_address()
    assert by["pod/tenant-a"].replacement_causes == ["name"]
    assert by["pod/tenant-a/inbox/x@agentmail.to"].reason == "pod/tenant-a is replaced"
    assert by["pod/tenant-a/inbox/gone@agentmail.to"].reason == "pod/tenant-a is replaced"  # not only undeclared


def test_undeclared_children_of_a_declared_pod_are_deleted():
    desired = state(DesiredState, pod("tenant-a"))
    actual = state(ActualState, pod("tenant-a"), inbox("tenant-a", "stray@agentmail.to"))
    assert actions(plan(desired, actual)) == {"pod/tenant-a/inbox/stray@agentmail.to": DELETE}


def test_undeclared_pod_matching_manage_is_deleted_with_its_contents():
    desired = state(DesiredState, prefixes=("tenant-",))
    actual = state(ActualState, pod("tenant-gone"), inbox("tenant-gone", "a@agentmail.to"))
    p = plan(desired, actual)
    assert actions(p) == {"pod/tenant-gone": DELETE, "pod/tenant-gone/inbox/a@agentmail.to": DELETE}
    assert p.by_address()["pod/tenant-gone/inbox/a@agentmail.to"].reason == "pod/tenant-gone is removed"


def test_pods_outside_manage_are_never_touched_and_listed_as_unmanaged():
    desired = state(DesiredState, prefixes=("tenant-",))
    actual = state(ActualState, pod("internal"), inbox("internal", "ops@agentmail.to"))
    p = plan(desired, actual)
    assert p.changes == []
    assert p.unmanaged == ["pod/internal"]


def test_undeclared_organisation_resources_are_unmanaged_not_deleted():
    actual = state(
        ActualState,
        Resource(DOMAIN, domain_address("corp.example"), {}),
        Resource("api_key", api_key_address("root"), {"permissions": None}),
    )
    p = plan(DesiredState(), actual)
    assert p.changes == [] and p.unmanaged == ["api_key/root", "domain/corp.example"]


def test_inbox_declared_in_another_managed_pod_moves_by_delete_then_create():
    desired = state(DesiredState, pod("tenant-a"), pod("tenant-b"), inbox("tenant-b", "x@agentmail.to"))
    actual = state(ActualState, pod("tenant-a"), pod("tenant-b"), inbox("tenant-a", "x@agentmail.to"))
    p = plan(desired, actual)
    assert actions(p) == {"pod/tenant-a/inbox/x@agentmail.to": DELETE, "pod/tenant-b/inbox/x@agentmail.to": CREATE}
    assert "cannot change scope" in p.by_address()["pod/tenant-a/inbox/x@agentmail.to"].reason
    assert p.by_address()["pod/tenant-b/inbox/x@agentmail.to"].reason == "moved from pod/tenant-a/inbox/x@agentmail.to"


def test_inbox_existing_in_an_unmanaged_pod_cannot_be_planned():
    desired = state(DesiredState, pod("tenant-b"), inbox("tenant-b", "x@agentmail.to"))
    actual = state(ActualState, pod("other"), inbox("other", "x@agentmail.to"))
    with pytest.raises(PlanError, match="does not manage"):
        plan(desired, actual)


def test_key_expiry_change_forces_replacement_permissions_change_does_not():
    key = api_key_address("k", pod="tenant-a")
    desired = state(
        DesiredState,
        pod("tenant-a"),
        Resource(
            "api_key",
            key,
            {"permissions": {"inbox_read": True}, "expires_at": "2030-01-01T00:00:00Z"},
            parent="pod/tenant-a",
        ),
    )
    actual = state(
        ActualState,
        pod("tenant-a"),
        Resource("api_key", key, {"permissions": None, "expires_at": "2029-01-01T00:00:00Z"}, parent="pod/tenant-a"),
    )
    (change,) = plan(desired, actual).changes
    assert change.action == REPLACE and change.replacement_causes == ["expires_at"]
    assert {d.path for d in change.diff} == {"expires_at", "permissions"}


def test_lists_are_managed_only_in_scopes_that_declare_lists():
    entry = Resource("list", "list/receive/block/spam.example", {})
    actual = state(ActualState, entry)
    assert plan(DesiredState(), actual).changes == []  # org lists not declared: left alone
    managed = DesiredState(list_scopes={None})
    assert actions(plan(managed, actual)) == {"list/receive/block/spam.example": DELETE}
