"""Saved plans are exact: a plan file applies only if the plan computed now has exactly its
changes, and only with the mailctl version and plan-file format that wrote it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mailctl import __version__
from mailctl.errors import UnsafePlan, UsageError
from mailctl.plan import planfile
from mailctl.plan.planner import plan as make_plan
from mailctl.resources import INBOX, POD, ActualState, DesiredState, Resource


def _world(display_name: str = "New") -> tuple[DesiredState, ActualState]:
    desired, actual = DesiredState(), ActualState()
    desired.add(Resource(POD, "pod/t", {"name": "T"}))
    desired.add(Resource(INBOX, "pod/t/inbox/x@agentmail.to", {"display_name": display_name}, parent="pod/t"))
    desired.add(Resource(INBOX, "pod/t/inbox/y@agentmail.to", {"metadata": {"n": 1}}, parent="pod/t"))
    actual.add(Resource(POD, "pod/t", {"name": "T"}, remote_id="id-t", observed={"client_id": "t"}))
    actual.add(
        Resource(
            INBOX, "pod/t/inbox/x@agentmail.to", {"display_name": "Old"}, parent="pod/t", remote_id="x@agentmail.to"
        )
    )
    return desired, actual


def _saved(tmp_path: Path, desired: DesiredState, actual: ActualState) -> Path:
    path = tmp_path / "change.plan"
    planfile.save(str(path), make_plan(desired, actual), desired, actual, [], [])
    return path


def _edit(path: Path, edit) -> None:
    document = json.loads(path.read_text())
    edit(document)
    path.write_text(json.dumps(document))


def test_the_same_plan_on_the_same_state_is_accepted(tmp_path):
    desired, actual = _world()
    saved = planfile.SavedPlan(str(_saved(tmp_path, desired, actual)))
    saved.check_fresh(actual, make_plan(saved.desired, actual))


def test_the_plan_file_records_the_mailctl_version_that_wrote_it(tmp_path):
    desired, actual = _world()
    document = json.loads(_saved(tmp_path, desired, actual).read_text())
    assert document["format"] == "mailctl-plan/1" and document["mailctl_version"] == __version__
    assert [c["address"] for c in document["plan"]["changes"]] == [
        "pod/t/inbox/x@agentmail.to",
        "pod/t/inbox/y@agentmail.to",
    ]


def test_a_recorded_change_edited_in_the_file_is_refused_naming_the_attribute(tmp_path):
    desired, actual = _world()
    path = _saved(tmp_path, desired, actual)

    def edit(document):
        change = document["plan"]["changes"][0]
        change["after"]["display_name"] = "Evil"
        change["diff"][0]["after"] = "Evil"

    _edit(path, edit)
    saved = planfile.SavedPlan(str(path))
    with pytest.raises(UnsafePlan) as refused:
        saved.check_fresh(actual, make_plan(saved.desired, actual))
    message = str(refused.value)
    assert "saved plan" in message and "the plan computed now differs from the one recorded" in message
    assert '~ pod/t/inbox/x@agentmail.to: display_name: "Old" -> "Evil" (recorded), "Old" -> "New" (now)' in message
    assert '~ pod/t/inbox/x@agentmail.to: after.display_name: "Evil" (recorded) -> "New" (now)' in message
    assert "the actual state changed" not in message


def test_a_change_removed_from_or_added_to_the_file_is_refused(tmp_path):
    desired, actual = _world()
    path = _saved(tmp_path, desired, actual)
    _edit(path, lambda d: d["plan"]["changes"].pop())
    saved = planfile.SavedPlan(str(path))
    with pytest.raises(UnsafePlan, match=r"\+ pod/t/inbox/y@agentmail.to: create is planned now, not recorded"):
        saved.check_fresh(actual, make_plan(saved.desired, actual))

    path = _saved(tmp_path, desired, actual)
    _edit(
        path,
        lambda d: d["plan"]["changes"].append(
            {**d["plan"]["changes"][0], "address": "pod/t/inbox/z@agentmail.to", "action": "delete"}
        ),
    )
    saved = planfile.SavedPlan(str(path))
    with pytest.raises(UnsafePlan, match=r"- pod/t/inbox/z@agentmail.to: delete is recorded, no longer planned"):
        saved.check_fresh(actual, make_plan(saved.desired, actual))


def test_an_action_or_reason_that_differs_is_named(tmp_path):
    desired, actual = _world()
    path = _saved(tmp_path, desired, actual)

    def edit(document):
        document["plan"]["changes"][0]["action"] = "replace"
        document["plan"]["changes"][0]["reason"] = "because"

    _edit(path, edit)
    saved = planfile.SavedPlan(str(path))
    with pytest.raises(UnsafePlan) as refused:
        saved.check_fresh(actual, make_plan(saved.desired, actual))
    assert '~ pod/t/inbox/x@agentmail.to: action "replace" (recorded) -> "update" (now)' in str(refused.value)
    assert '~ pod/t/inbox/x@agentmail.to: reason "because" (recorded) -> null (now)' in str(refused.value)


def test_a_plan_that_changed_with_the_state_names_both(tmp_path):
    desired, actual = _world()
    saved = planfile.SavedPlan(str(_saved(tmp_path, desired, actual)))
    actual.resources["pod/t/inbox/x@agentmail.to"].attrs["display_name"] = "New"  # someone applied it
    with pytest.raises(UnsafePlan) as refused:
        saved.check_fresh(actual, make_plan(saved.desired, actual))
    message = str(refused.value)
    assert "- pod/t/inbox/x@agentmail.to: update is recorded, no longer planned" in message
    assert "~ pod/t/inbox/x@agentmail.to (changed)" in message and "Nothing was changed" in message


def test_a_boolean_recorded_where_a_number_is_planned_is_a_difference(tmp_path):
    desired, actual = _world()
    path = _saved(tmp_path, desired, actual)
    _edit(path, lambda d: d["plan"]["changes"][1]["after"]["metadata"].update(n=True))
    saved = planfile.SavedPlan(str(path))
    with pytest.raises(UnsafePlan, match=r"after.metadata: \{\"n\": true\} \(recorded\) -> \{\"n\": 1\} \(now\)"):
        saved.check_fresh(actual, make_plan(saved.desired, actual))


@pytest.mark.parametrize(
    "edit, named",
    [
        (lambda d: d.update(mailctl_version="0.0.1"), "mailctl version '0.0.1'"),
        (lambda d: d["plan"].update(mailctl_version="9.9.9"), "plan mailctl_version '9.9.9'"),
        (lambda d: d.update(format="mailctl-plan/2"), "plan-file format 'mailctl-plan/2'"),
        (lambda d: d["plan"].update(format_version="2"), "plan format_version '2'"),
        (lambda d: d.pop("mailctl_version"), "mailctl version None"),
    ],
)
def test_a_file_from_another_mailctl_version_or_format_is_refused(tmp_path, edit, named):
    desired, actual = _world()
    path = _saved(tmp_path, desired, actual)
    _edit(path, edit)
    with pytest.raises(UnsafePlan, match="was not written by this mailctl") as refused:
        planfile.SavedPlan(str(path))
    assert named in str(refused.value)


def test_a_damaged_plan_file_is_a_clear_error_not_a_crash(tmp_path):
    desired, actual = _world()
    path = _saved(tmp_path, desired, actual)
    _edit(path, lambda d: d.pop("state_digests"))
    with pytest.raises(UsageError, match="is not a valid mailctl plan file"):
        planfile.SavedPlan(str(path))
    path = _saved(tmp_path, desired, actual)
    _edit(path, lambda d: d["plan"].update(changes="oops"))
    with pytest.raises(UsageError, match="is not a valid mailctl plan file"):
        planfile.SavedPlan(str(path))
