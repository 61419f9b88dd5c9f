"""Property: executing any plan (simulated in memory) converges: re-planning finds nothing to do,
and nothing outside the managed scope is ever touched. And ``--target`` / ``--exclude``, which walk
the step graph from the selection, select what the whole step graph says they must."""

from __future__ import annotations

import copy

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mailctl.plan import targeting
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE
from mailctl.plan.planner import plan
from mailctl.plan.steps import dependencies, steps_of
from mailctl.resources import (
    INBOX,
    POD,
    ActualState,
    DesiredState,
    ManagePolicy,
    Resource,
    api_key_address,
    inbox_address,
    pod_address,
)

POD_NAMES = ["tenant-a", "tenant-b", "tenant-c", "other"]
EMAILS = ["a@agentmail.to", "b@agentmail.to", "c@agentmail.to", "d@agentmail.to"]
values = st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from(["x", "y"]))


@st.composite
def worlds(draw):
    """(desired, actual) over a small universe so collisions and moves happen often."""
    desired, actual = DesiredState(manage=ManagePolicy(("tenant-",))), ActualState()
    taken: set[str] = set()
    for side in (desired, actual):
        used = set()
        for pod_name in draw(st.lists(st.sampled_from(POD_NAMES), unique=True, max_size=3)):
            attrs = {"name": draw(st.sampled_from(["N1", "N2"]))} if draw(st.booleans()) else {}
            side.add(
                Resource(
                    POD, pod_address(pod_name), attrs, remote_id=f"id-{pod_name}", observed={"client_id": pod_name}
                )
            )
            for email in draw(st.lists(st.sampled_from(EMAILS), unique=True, max_size=2)):
                if email in used:
                    continue  # inbox ids are unique organisation-wide, on each side
                used.add(email)
                meta = draw(st.dictionaries(st.sampled_from(["k1", "k2"]), values, max_size=2))
                side.add(
                    Resource(
                        INBOX,
                        inbox_address(pod_name, email),
                        {"metadata": meta, "display_name": draw(st.sampled_from(["X", "Y"]))},
                        parent=pod_address(pod_name),
                        remote_id=email,
                    )
                )
            if draw(st.booleans()):
                side.add(
                    Resource(
                        "api_key",
                        api_key_address("k", pod=pod_name),
                        {"permissions": draw(st.sampled_from([None, {"inbox_read": True}]))},
                        parent=pod_address(pod_name),
                    )
                )
        taken |= used
    return desired, actual


def execute(p, actual: ActualState) -> ActualState:
    after = copy.deepcopy(actual)
    for change in p.changes:
        if change.action in (DELETE, REPLACE):
            after.resources.pop(change.address, None)
    for change in p.changes:
        if change.action in (CREATE, REPLACE):
            after.add(copy.deepcopy(change.desired))
        elif change.action == UPDATE:
            after.resources[change.address].attrs.update(copy.deepcopy(change.desired.attrs))
    return after


def _plannable(desired, actual):
    from mailctl.errors import PlanError

    try:
        return plan(desired, actual)
    except PlanError:
        return None


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_executing_a_plan_converges(world):
    desired, actual = world
    p = _plannable(desired, actual)
    if p is None:
        return  # refused: an inbox lives in a pod mailctl does not manage
    after = execute(p, actual)
    assert plan(desired, after).changes == []


@settings(max_examples=300, deadline=None)
@given(worlds())
def test_nothing_outside_managed_pods_is_ever_changed(world):
    desired, actual = world
    p = _plannable(desired, actual)
    if p is None:
        return
    for change in p.changes:
        assert not change.address.startswith("pod/other") or "pod/other" in desired.resources


def _whole_graph_selection(p, targets: list[str], excludes: list[str]) -> set[str]:
    """What --target / --exclude keep, worked out from every step's prerequisites at once."""
    needs: dict[str, set[str]] = {c.address: set() for c in p.changes}
    for (address, _), prerequisites in dependencies(steps_of(p)).items():
        needs.setdefault(address, set()).update(a for a, _ in prerequisites if a != address)
    needed_by: dict[str, set[str]] = {}
    for address, prerequisites in needs.items():
        for prerequisite in prerequisites:
            needed_by.setdefault(prerequisite, set()).add(address)

    def closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
        seen, todo = set(start), list(start)
        while todo:
            todo.extend(edges.get(todo.pop(), set()) - seen)
            seen |= set(todo)
        return seen

    # Excluded: the changes --exclude matches and all that need them. Then the targets left, with
    # what they need (never excluded: it would have taken them along).
    excluded = closure(
        {c.address for c in p.changes if any(targeting.matches(c.address, e) for e in excludes)}, needed_by
    )
    chosen = {c.address for c in p.changes if not targets or any(targeting.matches(c.address, t) for t in targets)}
    chosen -= excluded
    return closure(chosen, needs) if targets else chosen


@settings(max_examples=300, deadline=None)
@given(worlds(), st.data())
def test_a_target_or_exclusion_keeps_what_the_whole_step_graph_says(world, data):
    p = _plannable(*world)
    assume(p is not None and p.changes)
    address = data.draw(st.sampled_from([c.address for c in p.changes]))
    pattern = data.draw(st.sampled_from([address, address.split("/inbox/")[0], "pod/tenant-*", f"{address[:7]}*"]))
    targets, excludes = data.draw(st.sampled_from([([pattern], []), ([], [pattern]), (["pod/tenant-*"], [pattern])]))
    expected = _whole_graph_selection(p, targets, excludes)
    assert {c.address for c in targeting.select(p, targets, excludes).changes} == expected
