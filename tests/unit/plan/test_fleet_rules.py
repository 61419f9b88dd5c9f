"""The planner's rules for changing a live fleet (issue 16): moved, ignore_changes, manage.ignore,
create-first replacements. Pure: desired state from config text, actual state built by hand."""

from __future__ import annotations

from mailctl.config import load_texts
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE, Plan
from mailctl.plan.planner import OLD_HALF_OF_REPLACEMENT
from mailctl.plan.planner import plan as make_plan
from mailctl.resources import API_KEY, INBOX, POD, ActualState, DesiredState, Observed, Resource

EXPIRY = {"expires_at": "2031-01-01T00:00:00Z"}


def desired(text: str) -> DesiredState:
    return load_texts({"c.yaml": "version: 1\n" + text}).state


def actual(*resources: Resource) -> ActualState:
    state = ActualState()
    for resource in resources:
        state.add(resource)
    return state


def org_key(name: str, remote_id: str, observed: Observed | None = None, **attrs: object) -> Resource:
    return Resource(
        API_KEY, f"api_key/{name}", {"permissions": None, **attrs}, remote_id=remote_id, observed=observed or Observed()
    )


def actions(p: Plan) -> dict[str, str]:
    return {c.address: c.action for c in p.changes}


MOVED = "moved:\n  - {from: api_key/old, to: api_key/new}\n"


def test_an_organisation_key_being_renamed_is_managed_not_listed_as_unmanaged():
    p = make_plan(desired("api_keys:\n  new: {}\n" + MOVED), actual(org_key("old", "k1")))
    assert actions(p) == {"api_key/new": UPDATE}
    assert p.changes[0].moved_from == "api_key/old"
    assert "api_key/old" not in p.unmanaged
    assert p.managed_count == 1


def test_a_moved_key_whose_immutable_attribute_changed_is_replaced_create_first_from_its_old_address():
    config = desired("api_keys:\n  new: {expires_at: '2032-01-01T00:00:00Z'}\n" + MOVED)
    p = make_plan(config, actual(org_key("old", "k1", **EXPIRY)))
    [change] = p.changes
    assert (change.action, change.address, change.moved_from) == (REPLACE, "api_key/new", "api_key/old")
    assert change.actual is not None and change.actual.remote_id == "k1"  # the old key is the one deleted
    assert change.create_first
    assert change.reason == "moved from api_key/old; expires_at forces replacement"
    assert [d.path for d in change.diff] == ["name", "expires_at"]
    assert "api_key/old" not in p.unmanaged


def test_a_moved_key_left_marked_by_an_unfinished_replacement_is_deleted_once_the_new_one_exists():
    marked = Observed(replaced=True, declared_address="api_key/old")
    config = desired("api_keys:\n  new: {expires_at: '2032-01-01T00:00:00Z'}\n" + MOVED)
    p = make_plan(
        config,
        actual(org_key("old", "k1", marked, **EXPIRY), org_key("new", "k2", expires_at="2032-01-01T00:00:00Z")),
    )
    assert actions(p) == {"api_key/old": DELETE}
    assert p.changes[0].reason == OLD_HALF_OF_REPLACEMENT and p.changes[0].repair
    assert "api_key/old" not in p.unmanaged


def test_once_applied_a_moved_block_plans_nothing():
    p = make_plan(desired("api_keys:\n  new: {}\n" + MOVED), actual(org_key("new", "k1")))
    assert p.changes == [] and p.notes == []


def test_when_both_ends_exist_nothing_is_renamed_and_the_plan_says_so():
    p = make_plan(
        desired("pods:\n  t:\n    api_keys: {new: {}}\nmoved:\n  - {from: pod/t/api_key/old, to: pod/t/api_key/new}\n"),
        actual(
            Resource(POD, "pod/t", {}, remote_id="p1", observed=Observed(client_id="t")),
            Resource(API_KEY, "pod/t/api_key/old", {"permissions": None}, parent="pod/t", remote_id="k1"),
            Resource(API_KEY, "pod/t/api_key/new", {"permissions": None}, parent="pod/t", remote_id="k2"),
        ),
    )
    assert actions(p) == {"pod/t/api_key/old": DELETE}  # an undeclared child of a declared pod
    assert p.notes == [
        "moved pod/t/api_key/old -> pod/t/api_key/new: both exist, so nothing is renamed "
        "(pod/t/api_key/old is planned on its own)"
    ]


def test_ignore_changes_sends_the_attribute_at_create_and_never_diffs_it_after():
    config = desired("pods:\n  t: {name: New name, ignore_changes: [name]}\n")
    assert actions(make_plan(config, actual())) == {"pod/t": CREATE}
    assert make_plan(config, actual()).changes[0].after == {"name": "New name"}
    existing = Resource(POD, "pod/t", {"name": "Old name"}, remote_id="p1", observed=Observed(client_id="t"))
    assert make_plan(config, actual(existing)).changes == []


def test_manage_ignore_leaves_matching_runtime_children_alone_and_deletes_the_rest():
    config = desired("manage:\n  ignore: ['pod/t/inbox/conv-*']\npods:\n  t: {}\n")
    pod = Resource(POD, "pod/t", {}, remote_id="p1", observed=Observed(client_id="t"))
    runtime = Resource(INBOX, "pod/t/inbox/conv-7@agentmail.to", {}, parent="pod/t")
    stray = Resource(INBOX, "pod/t/inbox/scratch@agentmail.to", {}, parent="pod/t")
    p = make_plan(config, actual(pod, runtime, stray))
    assert actions(p) == {"pod/t/inbox/scratch@agentmail.to": DELETE}
    assert "pod/t/inbox/conv-7@agentmail.to" in p.unmanaged


def test_a_key_left_marked_by_a_replacement_no_longer_wanted_is_renamed_back_not_replaced():
    """The config went back to the key's expiry before the replacement finished: the old key
    (still in use) keeps its id and gets its name back."""
    marked = Observed(replaced=True, declared_address="api_key/k")
    p = make_plan(
        desired("api_keys:\n  k: {expires_at: '2031-01-01T00:00:00Z'}\n"), actual(org_key("k", "k1", marked, **EXPIRY))
    )
    [change] = p.changes
    assert (change.action, change.moved_from) == (UPDATE, "api_key/k")
    assert [(d.path, d.before, d.after) for d in change.diff] == [("name", "k#mailctl-replaced", "k")]


def test_a_key_left_marked_by_a_replacement_still_wanted_is_replaced_create_first():
    marked = Observed(replaced=True, declared_address="api_key/k")
    p = make_plan(
        desired("api_keys:\n  k: {expires_at: '2032-01-01T00:00:00Z'}\n"), actual(org_key("k", "k1", marked, **EXPIRY))
    )
    [change] = p.changes
    assert change.action == REPLACE and change.create_first


def test_a_lone_key_left_marked_by_a_replacement_whose_name_was_removed_is_an_ordinary_delete():
    """The replacement's create failed, then the key was removed from the config: no new key
    exists, so its delete is the user's removal (counted by the thresholds), not a repair."""
    marked = Observed(replaced=True, declared_address="pod/t/api_key/ci")
    pod = Resource(POD, "pod/t", {}, remote_id="p1", observed=Observed(client_id="t"))
    lone = Resource(API_KEY, "pod/t/api_key/ci", {"permissions": None}, parent="pod/t", remote_id="k1", observed=marked)
    p = make_plan(desired("pods:\n  t: {}\n"), actual(pod, lone))
    [change] = p.changes
    assert (change.action, change.address) == (DELETE, "pod/t/api_key/ci")
    assert change.reason == "not declared" and not change.repair


def test_the_old_half_beside_its_new_key_is_still_a_repair_once_the_name_is_removed():
    marked = Observed(replaced=True, declared_address="pod/t/api_key/ci")
    pod = Resource(POD, "pod/t", {}, remote_id="p1", observed=Observed(client_id="t"))
    old = Resource(
        API_KEY, "pod/t/api_key/ci#k1", {"permissions": None}, parent="pod/t", remote_id="k1", observed=marked
    )
    new = Resource(API_KEY, "pod/t/api_key/ci", {"permissions": None}, parent="pod/t", remote_id="k2")
    p = make_plan(desired("pods:\n  t: {}\n"), actual(pod, old, new))
    reasons = {c.address: (c.reason, c.repair) for c in p.changes}
    assert reasons == {
        "pod/t/api_key/ci": ("not declared", False),
        "pod/t/api_key/ci#k1": (OLD_HALF_OF_REPLACEMENT, True),
    }
