"""Saved plans as the mutation sweep of ``plan/planfile.py`` found them unpinned: each test names
the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/plan/planfile.py tests/unit/plan/test_planfile_sweep.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailctl.errors import UnsafePlan, UsageError
from mailctl.plan import planfile
from mailctl.plan.changes import DELETE, Refusal, Rule
from mailctl.plan.planner import plan as make_plan
from mailctl.plan.shards import Shard, shard_of
from mailctl.resources import INBOX, POD, WEBHOOK, ActualState, DesiredState, Moved, Resource, Source, WriteOnly

MINE, OTHER = "a", "d"  # the pods of shard 1/2 and 2/2
NEW = "pod/a/inbox/new@agentmail.to"
STRAY = "pod/a/inbox/stray@agentmail.to"


def _world() -> tuple[DesiredState, ActualState]:
    """Pod ``a`` (shard 1/2) gets an inbox; pod ``d`` (shard 2/2) is declared and unchanged."""
    assert shard_of(MINE, 2) == 1 and shard_of(OTHER, 2) == 2
    desired, actual = DesiredState(), ActualState()
    for pod in (MINE, OTHER):
        desired.add(Resource(POD, f"pod/{pod}", {"name": pod.upper()}))
        actual.add(
            Resource(POD, f"pod/{pod}", {"name": pod.upper()}, remote_id=f"id-{pod}", observed={"client_id": pod})
        )
    desired.add(Resource(INBOX, NEW, {"display_name": "New"}, parent="pod/a"))
    return desired, actual


def _save(path: Path, desired: DesiredState, actual: ActualState) -> Path:
    planfile.save(str(path), make_plan(desired, actual), desired, actual, [], [])
    return path


def test_a_plan_file_that_cannot_be_written_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    """Pins ``raise UsageError(f"cannot write plan file ...")`` in ``save``: without it a failed
    write was swallowed and ``plan --out`` reported success with no plan file written."""
    desired, actual = _world()
    path = tmp_path / "no-such-directory" / "change.plan"
    with pytest.raises(UsageError, match=r"cannot write plan file .*change\.plan"):
        _save(path, desired, actual)
    assert not path.parent.exists()


def test_an_in_memory_plan_made_stale_is_named_as_the_approved_plan() -> None:
    """Pins ``recorded.path, recorded.replan, recorded.what = label, replan, label`` in
    ``RecordedPlan.of``: without it the refusal of a stale Python-API plan crashed (AttributeError)
    instead of naming the plan and how to make a fresh one."""
    desired, actual = _world()
    planned = make_plan(desired, actual)
    recorded = planfile.RecordedPlan.of(planned, desired, actual, [], [])
    actual.resources["pod/a"].attrs["name"] = "Meanwhile"
    with pytest.raises(UnsafePlan) as refused:
        recorded.check_fresh(actual, planned)
    message = str(refused.value)
    assert message.startswith("the approved plan is stale: ")
    assert "~ pod/a (changed)" in message
    assert message.endswith("Nothing was changed. Run `Project.plan()` again.")


def test_a_shards_plan_is_not_stale_when_another_shard_changed_its_part() -> None:
    """Pins ``recorded.shard = shard`` in ``RecordedPlan.of``: without it a shard's plan recorded
    digests of the whole state, and the other shards applying meanwhile made it stale."""
    desired, actual = _world()
    planned = make_plan(desired, actual)
    recorded = planfile.RecordedPlan.of(planned, desired, actual, [], [], shard=Shard(1, 2))
    assert "pod/d" not in recorded.digests
    actual.resources["pod/d"].attrs["name"] = "Changed by shard 2"
    recorded.check_fresh(actual, planned)  # accepted: not this shard's part
    actual.resources["pod/a"].attrs["name"] = "Changed under shard 1"
    with pytest.raises(UnsafePlan, match=r"~ pod/a \(changed\)"):
        recorded.check_fresh(actual, planned)


def test_an_in_memory_plan_that_tripped_a_rail_is_accepted_when_it_trips_the_same_one() -> None:
    """Pins ``recorded.refusals = _refusals_of(document["refusals"])`` in ``RecordedPlan.of``:
    without it the rails the plan tripped were not recorded, so the same plan computed again was
    refused as differing ("computed now, not recorded")."""
    desired, actual = _world()
    planned = make_plan(desired, actual)
    planned.refusals = [Refusal(Rule.PROTECT, "pod/a is protected", ("pod/a",))]
    recorded = planfile.RecordedPlan.of(planned, desired, actual, [], [])
    recorded.check_fresh(actual, planned)
    planned.refusals = []
    with pytest.raises(UnsafePlan, match=r"- refusal protect of pod/a: recorded, not computed now"):
        recorded.check_fresh(actual, planned)


def test_a_saved_plan_that_deletes_applies_when_nothing_moved(tmp_path: Path) -> None:
    """Pins ``continue`` for a change without a desired resource in ``_check_values_known``:
    without it every saved plan holding a delete crashed (AttributeError on None) at apply."""
    desired, actual = _world()
    actual.add(Resource(INBOX, STRAY, {"display_name": "Stray"}, parent="pod/a", remote_id="stray@agentmail.to"))
    path = _save(tmp_path / "delete.plan", desired, actual)
    saved = planfile.SavedPlan(str(path))
    now = make_plan(saved.desired, actual)
    assert (STRAY, DELETE) in [(c.address, c.action) for c in now.changes]
    saved.check_fresh(actual, now)


def _edited(tmp_path: Path, edit) -> tuple[planfile.SavedPlan, ActualState]:
    """A saved plan of ``_world`` with its first recorded change edited by hand, read back."""
    desired, actual = _world()
    path = _save(tmp_path / "edited.plan", desired, actual)
    document = json.loads(path.read_text())
    edit(document["plan"]["changes"][0])
    path.write_text(json.dumps(document))
    return planfile.SavedPlan(str(path)), actual


def test_a_recorded_after_that_is_not_a_mapping_is_a_named_difference(tmp_path: Path) -> None:
    """Pins ``old, new = {"": old}, {"": new}`` in ``_change_differences``: without it a hand-edited
    ``after`` that is not a mapping crashed the comparison (AttributeError) instead of refusing."""
    saved, actual = _edited(tmp_path, lambda change: change.update(after="evil"))
    with pytest.raises(UnsafePlan) as refused:
        saved.check_fresh(actual, make_plan(saved.desired, actual))
    assert f'~ {NEW}: after.: "evil" (recorded) -> {{"display_name": "New"' in str(refused.value)


def test_a_recorded_change_differing_only_in_a_derived_field_is_refused(tmp_path: Path) -> None:
    """Pins the ``{key} differs`` fallback in ``_change_differences``: without it a change whose
    only edit is a field with no line of its own (``kind``) listed no difference, and the edited
    plan was accepted."""
    saved, actual = _edited(tmp_path, lambda change: change.update(kind="pod"))
    with pytest.raises(UnsafePlan) as refused:
        saved.check_fresh(actual, make_plan(saved.desired, actual))
    assert f"~ {NEW}: kind differs" in str(refused.value)


def test_an_attribute_the_recorded_change_left_alone_reads_as_unchanged(tmp_path: Path) -> None:
    """Pins ``return "unchanged"`` in ``_describe``: without it a diff row missing on one side was
    described as ``null`` (an attribute set to null), not as left unchanged."""
    row = {"path": "display_name", "before": None, "after": "Evil"}
    saved, actual = _edited(tmp_path, lambda change: change.update(diff=[row]))
    with pytest.raises(UnsafePlan) as refused:
        saved.check_fresh(actual, make_plan(saved.desired, actual))
    assert f'~ {NEW}: display_name: null -> "Evil" (recorded), unchanged (now)' in str(refused.value)


def test_a_plan_file_that_does_not_exist_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    """Pins ``raise UsageError(f"cannot read plan file ...")`` in ``_read``: without it a missing
    plan file crashed with a traceback (the read's result unbound)."""
    path = tmp_path / "gone.plan"
    with pytest.raises(UsageError, match=r"cannot read plan file .*gone\.plan: No such file or directory"):
        planfile.SavedPlan(str(path))


@pytest.mark.parametrize(
    "text, why",
    [
        ("plan: yes\n", "not JSON"),
        ("[1, 2]\n", "expected format mailctl-plan/1"),
        ('{"format": "terraform-plan/4"}\n', "expected format mailctl-plan/1"),
    ],
    ids=["not-json", "a-list", "another-format"],
)
def test_a_file_that_is_no_plan_file_is_a_usage_error_saying_why(tmp_path: Path, text: str, why: str) -> None:
    """Pins the two refusals of ``_read``: without ``(not JSON)`` the unparsed document was read
    unbound (a traceback); without ``(expected format ...)`` a JSON list crashed and another tool's
    file was blamed on a mailctl version."""
    path = tmp_path / "other.plan"
    path.write_text(text)
    with pytest.raises(UsageError) as refused:
        planfile.SavedPlan(str(path))
    assert str(refused.value) == f"{path} is not a mailctl plan file ({why})"


def test_a_literal_write_only_value_to_send_is_a_refusal_of_the_saved_plan() -> None:
    """Pins the ``out += [Refusal(Rule.UNSAVED_VALUE, ...)]`` of ``unsaved_values``: without it
    ``plan --out`` no longer warned that a webhook header given as a literal makes the saved plan's
    apply refuse; a value from the environment is no such refusal."""
    hook = "pod/a/webhook/events"
    desired, actual = _world()
    resource = Resource(WEBHOOK, hook, {"url": "https://x.test/h", "headers": ["x-env", "x-lit"]}, parent="pod/a")
    resource.write_only = {"headers": {"X-Lit": WriteOnly("s3cret"), "X-Env": WriteOnly("v", env="HOOK_VALUE")}}
    desired.add(resource)
    refusals = planfile.unsaved_values(make_plan(desired, actual))
    assert [(r.rule, r.addresses) for r in refusals] == [(Rule.UNSAVED_VALUE, (hook,))]
    assert refusals[0].message == (
        f"{hook}: headers `X-Lit` has a literal value in the config, which a plan file never holds, "
        "so apply of the saved plan will refuse (use {env: VARIABLE})"
    )
    assert "s3cret" not in refusals[0].message


def test_a_resource_recorded_twice_in_the_desired_state_is_refused(tmp_path: Path) -> None:
    """Pins ``raise ValueError(f"resource ... is recorded twice")`` in ``_desired_from_json``:
    without it a hand-edited file declaring an address twice was read, its last row silently
    winning."""
    desired, actual = _world()
    path = _save(tmp_path / "twice.plan", desired, actual)
    document = json.loads(path.read_text())
    rows = document["desired"]["resources"]
    rows.append({**next(r for r in rows if r["address"] == NEW), "attrs": {"display_name": "Evil"}})
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError, match=f"is not a valid mailctl plan file .*'{NEW}' is recorded twice"):
        planfile.SavedPlan(str(path))


def _drop_pod_a(rows: list) -> None:
    rows[:] = [r for r in rows if r["address"] != "pod/a"]


def _row(address: str):
    def edit(rows: list) -> None:
        next(r for r in rows if r["address"] == NEW).update(address=address, kind=address.split("/")[-2])

    return edit


def _parent(rows: list) -> None:
    next(r for r in rows if r["address"] == NEW).update(parent="pod/d")


@pytest.mark.parametrize(
    "edit, why",
    [
        (_drop_pod_a, f"resource '{NEW}': its scope 'pod/a' is not recorded"),
        (_row("pod/a/widget/x"), "'pod/a/widget/x' is not a resource address"),
        (_parent, f"resource '{NEW}' is recorded in scope 'pod/d'"),
    ],
    ids=["scope-missing", "not-an-address", "wrong-scope"],
)
def test_a_hand_edited_desired_resource_is_refused_naming_what_is_wrong(tmp_path: Path, edit, why: str) -> None:
    """Pins three checks of the recorded desired state (``_desired_from_json``: its scope is not
    recorded; ``_resource_from_json``: not a resource address, recorded in another scope): without
    each, the edited file was read and its changes planned from a desired state mailctl never made."""
    desired, actual = _world()
    path = _save(tmp_path / "edited.plan", desired, actual)
    document = json.loads(path.read_text())
    edit(document["desired"]["resources"])
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError) as refused:
        planfile.SavedPlan(str(path))
    assert str(refused.value) == (
        f"{path} is not a valid mailctl plan file (ValueError: {why}); run `mailctl plan --out {path}` again"
    )


def _new_row(document: dict) -> dict:
    return next(r for r in document["desired"]["resources"] if r["address"] == NEW)


@pytest.mark.parametrize(
    "edit, why",
    [
        (
            lambda d: _new_row(d).update(prevent_destroy="false"),
            f"resource '{NEW}': prevent_destroy is not true or false",
        ),
        (lambda d: d["desired"].update(list_scopes="pod/a"), "list_scopes is not a list"),
        (lambda d: d.update(targets=[5]), "targets: 5 is not a string"),
        (lambda d: d["desired"]["manage"].update(protect=["pod/a", None]), "manage.protect: None is not a string"),
    ],
    ids=["prevent-destroy-a-string", "list-scopes-a-string", "a-target-a-number", "protect-holds-null"],
)
def test_a_mistyped_part_of_the_file_is_refused_naming_it(tmp_path: Path, edit, why: str) -> None:
    """Pins the type checks: ``prevent_destroy is not true or false`` (``_resource_from_json``),
    ``is not a list`` (``_list``) and ``is not a string`` (``_string``). Without them ``"false"``
    read as a true ``prevent_destroy``, a string of scopes as a set of its letters, and a number or
    null went on as a target or a protect pattern."""
    desired, actual = _world()
    path = _save(tmp_path / "mistyped.plan", desired, actual)
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError) as refused:
        planfile.SavedPlan(str(path))
    assert f"is not a valid mailctl plan file (TypeError: {why});" in str(refused.value)


def test_moved_blocks_are_recorded_and_read_back(tmp_path: Path) -> None:
    """Pins both lines of ``_moved``: without ``source, target = _strings(...)`` a plan file with
    a ``moved`` block crashed (NameError); without ``return Moved(...)`` it was read as None."""
    desired, actual = _world()
    desired.moved = [Moved("pod/a/inbox/old@agentmail.to", NEW)]
    saved = planfile.SavedPlan(str(_save(tmp_path / "moved.plan", desired, actual)))
    assert saved.desired.moved == [Moved("pod/a/inbox/old@agentmail.to", NEW)]
    saved.check_fresh(actual, make_plan(saved.desired, actual))


def test_a_moved_block_of_three_addresses_is_refused_counting_them(tmp_path: Path) -> None:
    """Pins ``raise ValueError(f"{what}: {len(items)} items where {length} belong")`` in
    ``_strings``: without it a ``moved`` pair edited to three addresses was refused only by a
    tuple unpacking that names neither the part nor the count."""
    desired, actual = _world()
    path = _save(tmp_path / "moved.plan", desired, actual)
    document = json.loads(path.read_text())
    document["desired"]["moved"] = [["pod/a/inbox/old@agentmail.to", NEW, "pod/d"]]
    path.write_text(json.dumps(document))
    with pytest.raises(UsageError, match=r"\(ValueError: moved: 3 items where 2 belong\)"):
        planfile.SavedPlan(str(path))


def test_where_a_resource_was_declared_is_read_back_whole(tmp_path: Path) -> None:
    """Pins ``return value`` in ``_integer``: without it a recorded source read back with no line
    or column, and messages of ``apply PLANFILE`` lost where in the config a resource came from."""
    desired, actual = _world()
    desired.resources[NEW].source = Source("tenants/a.yaml", 12, 5)
    saved = planfile.SavedPlan(str(_save(tmp_path / "source.plan", desired, actual)))
    assert saved.desired.resources[NEW].source == Source("tenants/a.yaml", 12, 5)
