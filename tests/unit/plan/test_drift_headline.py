"""A narrowed drift report (--shard, --changed-since) vouches only for what it checked."""

from __future__ import annotations

import json

from mailctl.plan.changes import UPDATE, AttributeChange, Change, Plan
from mailctl.plan.drift import DriftReport, render
from mailctl.plan.render import render_json


def test_a_narrowed_report_without_drift_says_what_it_checked():
    plan = Plan(unmanaged=["pod/x"], selection=(("--shard", "3/3"), ("--target", "pod/a`b")))
    report = DriftReport.from_plan(plan)
    expected = (
        "No drift. Within --shard 3/3 --target pod/a`b, the actual state matches the configuration (1 unmanaged)."
    )
    assert render(report, "text").endswith(expected)
    assert "**No drift. Within --shard `3/3` --target ``pod/a`b``, the actual state matches" in render(
        report, "markdown"
    )


def test_a_narrowed_report_with_drift_says_what_it_checked():
    change = Change(UPDATE, "pod/a", diff=[AttributeChange("name", "A", "B")])
    report = DriftReport.from_plan(Plan(changes=[change], selection=(("--changed-since", "origin/main"),)))
    assert render(report, "text").endswith(
        "Drift within --changed-since origin/main: 1 resource(s) differ from the configuration — "
        "1 changed, 0 missing, 0 undeclared (0 unmanaged)."
    )


def test_a_whole_report_says_as_before():
    assert render(DriftReport.from_plan(Plan()), "text") == (
        "No drift: the actual state matches the configuration (0 unmanaged)."
    )


def test_json_reports_name_what_they_checked_so_a_machine_can_tell_a_narrowed_all_clear():
    """A cron or bot reading `drift --format json` / `plan --format json` must not take "no drift
    within --changed-since origin/main" for the whole fleet's all-clear."""
    selection = (("--changed-since", "origin/main"), ("--target", "pod/a"))
    expected = [{"flag": "--changed-since", "value": "origin/main"}, {"flag": "--target", "value": "pod/a"}]
    report = json.loads(render(DriftReport.from_plan(Plan(selection=selection)), "json"))
    assert report["selection"] == expected and report["drift"] is False
    assert json.loads(render_json(Plan(selection=selection)))["selection"] == expected
    assert json.loads(render(DriftReport.from_plan(Plan()), "json"))["selection"] == []
    assert json.loads(render_json(Plan()))["selection"] == []
