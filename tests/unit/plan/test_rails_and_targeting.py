"""Safety rails, --target/--exclude selection, drift categories and saved-plan staleness."""

from __future__ import annotations

import json

import pytest

from mailctl.errors import UnsafePlan, UsageError
from mailctl.plan import planfile, safety, targeting
from mailctl.plan.changes import DELETE, REPLACE, UPDATE, AttributeChange, Change, Plan
from mailctl.plan.drift import DriftReport, render
from mailctl.plan.planner import SECRET_NEVER_RECORDED
from mailctl.plan.planner import plan as make_plan
from mailctl.resources import (
    API_KEY,
    INBOX,
    POD,
    ActualState,
    DesiredState,
    ManagePolicy,
    Observed,
    Resource,
    Source,
)


def _res(kind: str, address: str, parent: str | None = None, **attrs) -> Resource:
    return Resource(kind, address, dict(attrs), parent=parent)


def _plan_with(n_existing: int, deletes: int = 0, updates: int = 0, replaces: int = 0) -> Plan:
    changes = [
        Change(REPLACE, f"pod/p/api_key/r{i}", actual=_res(API_KEY, f"pod/p/api_key/r{i}", "pod/p"))
        for i in range(replaces)
    ]
    changes += [
        Change(DELETE, f"pod/p/inbox/d{i}@agentmail.to", actual=_res(INBOX, f"pod/p/inbox/d{i}@agentmail.to", "pod/p"))
        for i in range(deletes)
    ]
    changes += [Change(UPDATE, f"pod/p/inbox/u{i}@agentmail.to") for i in range(updates)]
    return Plan(changes=changes, managed_count=n_existing)


def check(plan: Plan, desired: DesiredState, force: bool = False, allow_data_loss: bool = False) -> None:
    """What apply does: the plan's refusals, then the flags."""
    plan.refusals = safety.refusals(plan, desired, ActualState())
    safety.check(plan, force=force, allow_data_loss=allow_data_loss)


def test_deleting_more_than_30_percent_of_managed_resources_is_refused_unless_forced():
    p = _plan_with(10, deletes=4)
    with pytest.raises(UnsafePlan, match="delete 4 of 10 existing managed resources"):
        check(p, DesiredState(), force=False)
    check(p, DesiredState(), force=True)


def test_a_replacement_counts_as_a_delete_for_the_threshold():
    only_deletes = DesiredState(settings={"safety": {"max_update_fraction": 1.0}})
    check(_plan_with(10, deletes=2, replaces=1), only_deletes)  # 3 of 10 deletes: at the limit
    with pytest.raises(UnsafePlan, match="delete 4 of 10 existing managed resources"):
        check(_plan_with(10, deletes=2, replaces=2), only_deletes)
    with pytest.raises(UnsafePlan, match="delete 4 of 10"):
        check(_plan_with(10, replaces=4), only_deletes)


def test_a_replacement_counts_as_an_update_for_the_threshold():
    only_updates = DesiredState(settings={"safety": {"max_delete_fraction": 1.0}})
    with pytest.raises(UnsafePlan, match="update 4 of 10 existing managed resources"):
        check(_plan_with(10, updates=2, replaces=2), only_updates)


def test_repairs_of_leftovers_are_not_counted_by_the_thresholds_and_the_plan_says_so():
    repairs = _plan_with(10, replaces=5)
    for change in repairs.changes:
        change.repair = True
    check(repairs, DesiredState())
    assert "not counted by the safety thresholds" in (safety.repairs_note(repairs) or "")


def test_data_loss_is_refused_even_with_force_and_lifted_only_by_allow_data_loss():
    plan = _plan_with(100, deletes=1)
    plan.changes[0].data_at_risk = {"threads": 1, "messages": 3, "drafts": 0}
    with pytest.raises(UnsafePlan, match=r"pod/p/inbox/d0@agentmail.to \(1 threads, 3 messages, 0 drafts"):
        check(plan, DesiredState(), force=True)
    check(plan, DesiredState(), allow_data_loss=True)
    assert [r.rule for r in plan.refusals] == ["data_loss"] and safety.messages_at_risk(plan) == 3


def test_an_empty_inbox_is_not_data_loss():
    plan = _plan_with(100, deletes=1)
    plan.changes[0].data_at_risk = {"threads": 0, "messages": 0, "drafts": 0}
    check(plan, DesiredState())


def test_protect_refuses_a_delete_of_an_undeclared_resource_whatever_the_flags():
    plan = _plan_with(100, deletes=1)
    desired = DesiredState(manage=ManagePolicy(protect=("pod/p",)))
    with pytest.raises(UnsafePlan, match="protected by manage.protect `pod/p`"):
        check(plan, desired, force=True, allow_data_loss=True)


def test_thresholds_only_apply_once_enough_resources_exist():
    check(_plan_with(9, deletes=9), DesiredState(), force=False)


def test_thresholds_are_configurable_in_settings():
    desired = DesiredState(settings={"safety": {"max_change_fraction": 0.5}})
    check(_plan_with(10, updates=5), desired, force=False)
    with pytest.raises(UnsafePlan, match="update 6 of 10"):
        check(_plan_with(10, updates=6), desired, force=False)


def test_prevent_destroy_blocks_a_replacement_even_with_force_and_names_why():
    desired = DesiredState()
    guarded = _res(POD, "pod/p", name="New")
    guarded.prevent_destroy, guarded.source = True, Source("tenants.yaml", 3)
    desired.add(guarded)
    change = Change(
        REPLACE,
        "pod/p",
        desired=guarded,
        actual=_res(POD, "pod/p", name="Old"),
        diff=[AttributeChange("name", "Old", "New", True)],
    )
    with pytest.raises(UnsafePlan) as err:
        check(Plan(changes=[change]), desired, force=True)
    assert "pod/p has prevent_destroy (declared at tenants.yaml:3)" in str(err.value)
    assert "name forces replacement" in str(err.value)


def test_prevent_destroy_on_an_inbox_trips_when_its_pod_is_replaced():
    desired, actual = DesiredState(), ActualState()
    desired.add(_res(POD, "pod/p", name="New"))
    box = _res(INBOX, "pod/p/inbox/x@agentmail.to", "pod/p")
    box.prevent_destroy = True
    desired.add(box)
    actual.add(Resource(POD, "pod/p", {"name": "Old"}, observed={"client_id": "p"}))
    actual.add(_res(INBOX, "pod/p/inbox/x@agentmail.to", "pod/p"))
    problems = [
        r.message for r in safety.blocking(safety.refusals(make_plan(desired, actual), desired, actual), force=True)
    ]
    assert problems == [
        "pod/p/inbox/x@agentmail.to has prevent_destroy, but the plan would replace it: pod/p is replaced"
    ]


def _pod_world() -> Plan:
    desired = DesiredState()
    for pod in ("tenant-a", "tenant-b"):
        desired.add(_res(POD, f"pod/{pod}"))
        desired.add(_res(INBOX, f"pod/{pod}/inbox/x@{pod}.example", f"pod/{pod}"))
    return make_plan(desired, ActualState())


def test_target_takes_what_is_under_the_address_and_what_it_needs():
    p = targeting.select(_pod_world(), ["pod/tenant-a/inbox/*"], [])
    assert [c.address for c in p.changes] == ["pod/tenant-a", "pod/tenant-a/inbox/x@tenant-a.example"]
    p = targeting.select(_pod_world(), ["pod/tenant-b"], [])
    assert [c.address for c in p.changes] == ["pod/tenant-b", "pod/tenant-b/inbox/x@tenant-b.example"]


def test_a_target_that_matches_no_pending_change_is_named_in_the_plan_notes():
    """A typo in --target must not look like "nothing to do" for the tenant meant."""
    p = targeting.select(_pod_world(), ["pod/tenant-a", "pod/tenant-z*", "pod/tenant-[b]"], [])
    assert [c.address for c in p.changes] == [
        "pod/tenant-a",
        "pod/tenant-a/inbox/x@tenant-a.example",
        "pod/tenant-b",
        "pod/tenant-b/inbox/x@tenant-b.example",
    ]
    assert [n for n in p.notes if "--target" in n] == ["--target pod/tenant-z* matches no pending change"]


def test_a_narrowed_plan_without_changes_says_it_checked_its_selection_only():
    """ "The actual state matches the configuration" would claim what a narrowed read never saw."""
    from mailctl.plan import shards

    assert _pod_world().summary().startswith("Plan: ")
    assert (
        make_plan(DesiredState(), ActualState()).summary() == "No changes. The actual state matches the configuration."
    )
    nothing = targeting.select(_pod_world(), ["pod/nope"], ["pod/tenant-b"])
    assert nothing.summary() == (
        "No changes. Within --target pod/nope --exclude pod/tenant-b, the actual state matches the configuration."
    )
    sharded = shards.select(nothing, shards.Shard(2, 4))
    assert sharded.summary().startswith("No changes. Within --target pod/nope --exclude pod/tenant-b --shard 2/4, ")
    assert shards.select(Plan(), shards.Shard(1, 1)).summary().startswith("No changes. The actual")


def test_a_narrowed_summary_counts_many_targets_and_escapes_what_it_shows():
    from mailctl.plan.render import render_markdown, render_text

    many = targeting.select(_pod_world(), [f"pod/nope-{n}" for n in range(2000)], [])
    assert many.summary() == ("No changes. Within 2000 --target patterns, the actual state matches the configuration.")
    hostile = targeting.select(_pod_world(), ["pod/x\u202e`*|<b>"], [])
    text = render_text(hostile).splitlines()[-1]
    assert "\u202e" not in text and "\\u202e" in text
    markdown = render_markdown(hostile)
    summary = next(line for line in markdown.splitlines() if line.startswith("**No changes."))
    assert "\u202e" not in summary and "``pod/x\\u202e`*|<b>``" in summary  # not in a table: `|` as is


def test_exclude_drops_what_needs_the_excluded_change():
    p = targeting.select(_pod_world(), [], ["pod/tenant-a"])
    assert [c.address for c in p.changes] == ["pod/tenant-b", "pod/tenant-b/inbox/x@tenant-b.example"]


def test_malformed_target_is_a_usage_error():
    with pytest.raises(UsageError):
        targeting.validate_patterns(["/pod/x"], "--target")


def test_drift_categories_and_exit_relevant_flag():
    desired = DesiredState(manage=ManagePolicy(("tenant-",)))
    desired.add(_res(POD, "pod/tenant-a"))
    desired.add(_res(INBOX, "pod/tenant-a/inbox/new@agentmail.to", "pod/tenant-a"))
    desired.add(_res(INBOX, "pod/tenant-a/inbox/x@agentmail.to", "pod/tenant-a", display_name="Declared"))
    actual = ActualState()
    actual.add(Resource(POD, "pod/tenant-a", {}, observed={"client_id": "tenant-a"}))
    actual.add(_res(INBOX, "pod/tenant-a/inbox/x@agentmail.to", "pod/tenant-a", display_name="Hand"))
    actual.add(_res(INBOX, "pod/tenant-a/inbox/extra@agentmail.to", "pod/tenant-a"))
    actual.add(Resource(POD, "pod/other", {}, observed={"client_id": "other"}))
    report = DriftReport.from_plan(make_plan(desired, actual))
    assert report.summary() == {
        "changed": 1,
        "missing": 1,
        "undeclared": 1,
        "unmanaged": 1,
        "replaced_with_pod": 0,
        "total": 3,
    }
    document = json.loads(render(report, "json"))
    assert document["drift"] is True and document["changed"][0]["diff"][0]["path"] == "display_name"
    assert "| `pod/tenant-a/inbox/x@agentmail.to` | changed |" in render(report, "markdown")
    assert 'display_name: "Hand" (actual) != "Declared" (declared)' in render(report, "text")


def test_a_saved_plan_is_refused_when_the_state_moved_and_names_what(tmp_path):
    desired, actual = DesiredState(), ActualState()
    desired.add(_res(POD, "pod/a", name="A"))
    actual.add(Resource(POD, "pod/b", {"name": "B"}, remote_id="id-b", observed={"client_id": "b"}))
    path = tmp_path / "plan.json"
    planfile.save(str(path), make_plan(desired, actual), desired, actual, ["pod/*"], [])
    saved = planfile.SavedPlan(str(path))
    assert saved.targets == ["pod/*"] and list(saved.desired.resources) == ["pod/a"]
    saved.check_fresh(actual)
    actual.resources["pod/b"].attrs["name"] = "B2"
    actual.add(Resource(POD, "pod/c", {}, remote_id="id-c"))
    with pytest.raises(UnsafePlan, match=r"(?s)\+ pod/c \(appeared\).*~ pod/b \(changed\)"):
        saved.check_fresh(actual)


def test_a_non_plan_file_is_a_clear_usage_error(tmp_path):
    bogus = tmp_path / "x.json"
    bogus.write_text("{}")
    with pytest.raises(UsageError, match="not a mailctl plan file"):
        planfile.SavedPlan(str(bogus))


def _leftover_key_world(scope: str) -> Plan:
    """``{scope}api_key/backend`` declared and present, plus a leftover pending key of that name
    (a killed apply's; the reader names it ``backend#<id>``), which the plan deletes."""
    parent = scope.rstrip("/") or None
    desired, actual = DesiredState(), ActualState()
    if parent:
        desired.add(_res(POD, parent))
        actual.add(Resource(POD, parent, {}, remote_id="p1"))
    declared = f"{scope}api_key/backend"
    desired.add(_res(API_KEY, declared, parent))
    actual.add(Resource(API_KEY, declared, {}, parent=parent, remote_id="k1"))
    actual.add(
        Resource(
            API_KEY,
            f"{declared}#k2",
            {},
            parent=parent,
            remote_id="k2",
            observed=Observed(unrecorded=True, declared_address=declared),
        )
    )
    actual.add(
        Resource(
            API_KEY,
            f"{scope}api_key/other#k3",
            {},
            parent=parent,
            remote_id="k3",
            observed=Observed(unrecorded=True, declared_address=f"{scope}api_key/other"),
        )
    )
    return make_plan(desired, actual)


@pytest.mark.parametrize("scope", ["", "pod/tenant-a/"], ids=["organisation", "pod"])
def test_target_on_a_key_takes_its_leftover_pending_keys_to_delete(scope: str):
    world = _leftover_key_world(scope)
    leftover = f"{scope}api_key/backend#k2"
    assert (leftover, DELETE, SECRET_NEVER_RECORDED) in [(c.address, c.action, c.reason) for c in world.changes]
    chosen = targeting.select(world, [f"{scope}api_key/backend"], [])
    assert [c.address for c in chosen.changes] == [leftover]  # not the other key's leftover
    assert not chosen.notes  # the target matched something
    excluded = targeting.select(world, [], [f"{scope}api_key/backend"])
    assert leftover not in [c.address for c in excluded.changes]


def test_what_only_an_excluded_target_needed_is_not_kept_and_the_emptied_target_is_named():
    """Found by QA: `--target pod/t-n --exclude pod/t-n` still created a domain, pulled in only as
    a prerequisite of the excluded inbox; an emptied target looked like "nothing pending"."""
    inbox = "pod/tenant-a/inbox/x@tenant-a.example"
    p = targeting.select(_pod_world(), [inbox], [inbox])
    assert p.changes == []
    assert f"--target {inbox}: every change it matches is excluded by --exclude" in p.notes
    kept = targeting.select(_pod_world(), [inbox, "pod/tenant-b"], ["pod/tenant-a/inbox/*"])
    assert [c.address for c in kept.changes] == ["pod/tenant-b", "pod/tenant-b/inbox/x@tenant-b.example"]
    # A prerequisite a kept target needs stays, excluded or not by pattern order.
    both = targeting.select(_pod_world(), [inbox], ["pod/tenant-b"])
    assert [c.address for c in both.changes] == ["pod/tenant-a", inbox]
