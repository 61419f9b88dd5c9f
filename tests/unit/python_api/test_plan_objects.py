"""The ``Plan`` that ``Project.plan`` returns is what apply executes: it cannot be edited into
saying something else, and apply refuses one whose data no longer matches what was planned."""

from __future__ import annotations

import dataclasses
import json
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml

from mailctl import Project
from mailctl.errors import UnsafePlan


def _config(*inboxes: str) -> dict[str, Any]:
    return {"version": 1, "pods": {"ed": {"name": "Ed", "inboxes": {f"{i}@agentmail.to": {} for i in inboxes}}}}


def _shrinking(tmp_path: Path) -> tuple[Project, Any]:
    """Two inboxes applied; the config now declares one: the plan destroys the other."""
    sandbox = tmp_path / "sb.db"
    both = Project(config=_config("ed-a", "ed-b"), sandbox=sandbox)
    assert both.apply(both.plan()).ok
    project = Project(config=_config("ed-a"), sandbox=sandbox)
    plan = project.plan()
    assert [(c.action, c.address) for c in plan.changes] == [("delete", "pod/ed/inbox/ed-b@agentmail.to")]
    return project, plan


def test_the_changes_of_a_plan_cannot_be_edited(tmp_path):
    _, plan = _shrinking(tmp_path)
    with pytest.raises(TypeError):
        plan.changes[:] = []
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.data = None


@pytest.mark.parametrize("edit", ["drop", "action"])
def test_apply_refuses_a_plan_edited_after_it_was_made(tmp_path, edit):
    project, plan = _shrinking(tmp_path)
    if edit == "drop":
        plan.data.changes.clear()
        assert not plan.has_changes and plan.summary().startswith("No changes")
    else:
        plan.data.changes[0].reason = "edited"
    with pytest.raises(UnsafePlan, match="edited"):
        project.apply(plan)
    assert [c.action for c in project.plan().changes] == ["delete"]  # nothing was destroyed


def test_to_dict_is_plain_json_data_equal_to_the_json_plan(tmp_path):
    _shrinking(tmp_path)
    protected = {**_config("ed-a"), "manage": {"protect": ["pod/ed/inbox/ed-b@agentmail.to"]}}
    plan = Project(config=protected, sandbox=tmp_path / "sb.db").plan()
    assert [r.rule for r in plan.refusals] == ["protect"]
    document = plan.to_dict()
    assert json.loads(json.dumps(document)) == document
    assert yaml.safe_load(yaml.safe_dump(document)) == document
    assert type(document["changes"][0]["action"]) is str and type(document["refusals"][0]["rule"]) is str
    assert all(type(action) is str for action in document["summary"])


def test_an_in_memory_sandbox_lives_as_long_as_its_project() -> None:
    """`sandbox=":memory:"` (as `--sandbox :memory:`): each plan and apply opened a new empty
    sandbox, so every apply was refused as stale and nothing persisted."""
    project = Project(config={"version": 1, "pods": {"tenant-m": {"name": "M"}}}, sandbox=":memory:")
    report = project.apply(project.plan())
    assert report.ok and [r.address for r in report.done] == ["pod/tenant-m"]
    assert project.plan().changes == ()
    other = Project(config={"version": 1, "pods": {"tenant-m": {"name": "M"}}}, sandbox=":memory:")
    assert [c.address for c in other.plan().changes] == ["pod/tenant-m"]  # a sandbox of its own


def test_a_pickled_plan_holds_no_header_value(tmp_path: Path) -> None:
    """A Plan sent to a task queue or a cache is a plan file by another name: names only, as plan
    files (README: header values are never stored). The copy read back is refused as a plan file
    holding a literal is, before anything changes."""
    import pickle

    secret = "hdr-secret-5b1e"
    config = {
        "version": 1,
        "pods": {
            "tenant-h": {
                "name": "H",
                "webhooks": {
                    "events": {
                        "url": "https://h.example/hook",
                        "event_types": ["message.received"],
                        "headers": {"X-Token": secret},
                    }
                },
            }
        },
    }
    project = Project(config=config, sandbox=tmp_path / "sb.db")
    plan = project.plan()
    frozen = pickle.dumps(plan)
    assert secret.encode() not in frozen
    with pytest.raises(UnsafePlan) as refused:
        project.apply(pickle.loads(frozen))
    assert secret not in str(refused.value)
    assert [c.action for c in project.plan().changes] == ["create", "create"]  # nothing was changed
    assert project.apply(plan).ok  # the plan itself still holds what it sends


def test_a_drift_target_that_matches_nothing_is_a_warning(tmp_path: Path) -> None:
    """The CLI warns on stderr; a mistyped tenant in application code read as "no drift"."""
    from mailctl.project import TargetMatchesNothing

    project = Project(config={"version": 1, "pods": {"tenant-d": {"name": "D"}}}, sandbox=tmp_path / "sb.db")
    with pytest.warns(TargetMatchesNothing, match="pod/tenant-dd"):
        report = project.drift(target="pod/tenant-dd")
    assert not report.has_drift
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert project.drift(target="pod/tenant-d").has_drift  # declared, missing: no warning
