"""A drift report as OpenMetrics text, for Prometheus (node_exporter's textfile collector, a
Pushgateway).

Every family is a gauge without sample timestamps, so the same text is also valid Prometheus text
format 0.0.4, which the textfile collector reads: to it ``# UNIT`` and ``# EOF`` are comments, and
it refuses client-side timestamps. Every (state, kind) pair is written, zeros included, so a
series never vanishes when drift is repaired (an absent series is not a 0 to an alert rule).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from mailctl.plan.changes import selected
from mailctl.plan.drift import CHANGED, MISSING, UNDECLARED, DriftReport
from mailctl.resources import KINDS, kind_of

CONTENT_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"
UNMANAGED = "unmanaged"
STATES = (CHANGED, MISSING, UNDECLARED, UNMANAGED)


def render_openmetrics(report: DriftReport, now: float, shard: str | None = None) -> str:
    """The exposition, ending with ``# EOF`` (no newline: the caller adds one, as for the other
    formats). ``now`` is the run's time in unix seconds; ``shard`` ("K/N") labels every sample,
    so per-shard files in one textfile directory never collide; so does ``selection``, what else
    narrowed the report (``--target pod/a``, ``--changed-since origin/main``), as its headline
    says it."""
    base = {"shard": shard} if shard is not None else {}
    narrowed = selected((flag, value) for flag, value in report.selection if flag != "--shard")
    if narrowed:
        base["selection"] = narrowed
    summary = report.summary()
    by_kind = _by_kind(report)
    lines: list[str] = []
    lines += _family(
        "mailctl_drift_resources",
        "Resources per drift state (unmanaged ones are listed for information, not drift).",
        ((summary[state], {**base, "state": state}) for state in STATES),
    )
    lines += _family(
        "mailctl_drift_resources_by_kind",
        "Resources per drift state and kind.",
        ((by_kind[state, kind], {**base, "state": state, "kind": kind}) for state in STATES for kind in KINDS),
    )
    lines += _family(
        "mailctl_drift_detected",
        "1 when a declared resource is changed or missing, or an undeclared one exists in a managed scope.",
        [(int(report.has_drift), base)],
    )
    lines += _family(
        "mailctl_drift_last_run_timestamp_seconds",
        "When this drift check ran, in unix seconds.",
        [(now, base)],
        unit="seconds",
    )
    lines.append("# EOF")
    return "\n".join(lines)


def _by_kind(report: DriftReport) -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for state, addresses in (
        (CHANGED, [c.address for c in report.changed]),
        (MISSING, [c.address for c in report.missing]),
        (UNDECLARED, [c.address for c in report.undeclared]),
        (UNMANAGED, report.unmanaged),
    ):
        counts.update((state, kind_of(address)) for address in addresses)
    return counts


def _family(
    name: str, help_text: str, samples: Iterable[tuple[float, dict[str, str]]], unit: str | None = None
) -> list[str]:
    lines = [f"# TYPE {name} gauge"]
    if unit is not None:
        lines.append(f"# UNIT {name} {unit}")
    lines.append(f"# HELP {name} {_escape(help_text)}")
    for value, labels in samples:
        lines.append(f"{name}{_labels(labels)} {_number(value)}")
    return lines


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{key}="{_escape(value)}"' for key, value in labels.items()) + "}"


def _escape(text: str) -> str:
    """OpenMetrics escapes backslash, double quote and line feed in label values and help text."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
