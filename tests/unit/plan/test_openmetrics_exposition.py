"""`mailctl drift --format openmetrics`: every (state, kind) series written, zeros included, the
run's time in seconds, labels escaped, `# EOF` last."""

from __future__ import annotations

from mailctl.plan.changes import CREATE, DELETE, UPDATE, Change, Plan
from mailctl.plan.drift import DriftReport
from mailctl.plan.openmetrics import render_openmetrics

NOW = 1_700_000_000


def _report(selection: tuple[tuple[str, str], ...] = ()) -> DriftReport:
    return DriftReport.from_plan(
        Plan(
            changes=[
                Change(UPDATE, "pod/t/inbox/bot@agentmail.to"),
                Change(CREATE, "pod/t/webhook/events"),
                Change(DELETE, "pod/t/inbox/intruder@agentmail.to"),
            ],
            unmanaged=["pod/default", "api_key/ci"],
            selection=selection,
        )
    )


def _by_kind_lines(labels: str, counts: dict[tuple[str, str], int]) -> str:
    kinds = ("pod", "domain", "inbox", "api_key", "webhook", "list")
    return "".join(
        f'mailctl_drift_resources_by_kind{{{labels}state="{state}",kind="{kind}"}} {counts.get((state, kind), 0)}\n'
        for state in ("changed", "missing", "undeclared", "unmanaged")
        for kind in kinds
    )


def test_the_exposition_has_every_family_and_every_state_and_kind_zeros_included():
    """Pins the whole text: counts per state and per kind, the detected flag, the timestamp
    family's `# UNIT` line, the help lines and the closing `# EOF` with no newline after it."""
    counts = {
        ("changed", "inbox"): 1,
        ("missing", "webhook"): 1,
        ("undeclared", "inbox"): 1,
        ("unmanaged", "pod"): 1,
        ("unmanaged", "api_key"): 1,
    }
    assert render_openmetrics(_report(), NOW) == (
        "# TYPE mailctl_drift_resources gauge\n"
        "# HELP mailctl_drift_resources Resources per drift state (unmanaged ones are listed for information, "
        "not drift).\n"
        'mailctl_drift_resources{state="changed"} 1\n'
        'mailctl_drift_resources{state="missing"} 1\n'
        'mailctl_drift_resources{state="undeclared"} 1\n'
        'mailctl_drift_resources{state="unmanaged"} 2\n'
        "# TYPE mailctl_drift_resources_by_kind gauge\n"
        "# HELP mailctl_drift_resources_by_kind Resources per drift state and kind.\n"
        + _by_kind_lines("", counts)
        + "# TYPE mailctl_drift_detected gauge\n"
        "# HELP mailctl_drift_detected 1 when a declared resource is changed or missing, or an undeclared one "
        "exists in a managed scope.\n"
        "mailctl_drift_detected 1\n"
        "# TYPE mailctl_drift_last_run_timestamp_seconds gauge\n"
        "# UNIT mailctl_drift_last_run_timestamp_seconds seconds\n"
        "# HELP mailctl_drift_last_run_timestamp_seconds When this drift check ran, in unix seconds.\n"
        "mailctl_drift_last_run_timestamp_seconds 1700000000\n"
        "# EOF"
    )


def test_a_fractional_run_time_keeps_its_fraction():
    """Writing every value as an int (`_number`) rounded the run's time down to the second."""
    text = render_openmetrics(DriftReport(), NOW + 0.25)
    assert "\nmailctl_drift_last_run_timestamp_seconds 1700000000.25\n" in text
    assert "\nmailctl_drift_detected 0\n" in text


def test_a_shard_and_what_else_narrowed_the_report_label_every_sample():
    """Dropping the `shard` label or the `--shard` filter let two shards' files hold the same series
    (or name the shard twice)."""
    selection = (("--shard", "2/3"), ("--target", "pod/t"))
    text = render_openmetrics(_report(selection), NOW, shard="2/3")
    samples = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(samples) == 4 + 24 + 1 + 1
    assert all(line.startswith(line.split("{")[0] + '{shard="2/3",selection="--target pod/t"') for line in samples)


def test_a_selection_label_escapes_quotes_backslashes_and_line_feeds():
    """A pattern is the user's text: with `_escape` a no-op, its `"` ended the label value and broke the file."""
    text = render_openmetrics(_report((("--target", 'pod/a"b\\c\nd'),)), NOW)
    assert 'mailctl_drift_detected{selection="--target pod/a\\"b\\\\c\\nd"} 1\n' in text
