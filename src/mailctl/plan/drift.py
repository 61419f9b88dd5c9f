"""Drift reports: the plan, seen as "how far has reality moved from the config".

Categories (the summary counts are what a monitor alerts on):

- ``changed``: declared and present, but an attribute differs (would be updated or replaced);
- ``missing``: declared but absent (would be created);
- ``undeclared``: present in a managed scope but not declared (would be deleted);
- ``unmanaged``: present outside every managed scope: listed for information, not drift;
- ``replaced_with_pod``: declared and present, nothing of theirs differs, but the pod they are in
  is replaced (its own drift), so they would be replaced with it: listed apart, not drift.

A change without an attribute diff says why it is drift by its reason ("secret never recorded").
Only declared attributes are compared, normalised on both sides, so server-set fields
(timestamps, ids, secrets' prefixes, verification status), ordering and API defaults never show.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mailctl import __version__
from mailctl.plan.changes import CREATE, DELETE, REPLACE, AttributeChange, Change, Plan, selected
from mailctl.plan.render import change_names, change_to_json, code, diff_cell, markdown_cell, selection_to_json
from mailctl.resources import pod_address, pod_of
from mailctl.text import json_text, shown, shown_value

FORMAT_VERSION = "1"
CHANGED, MISSING, UNDECLARED = "changed", "missing", "undeclared"
REPLACED_WITH_POD = "replaced_with_pod"


@dataclass
class DriftReport:
    changed: list[Change] = field(default_factory=list)
    missing: list[Change] = field(default_factory=list)
    undeclared: list[Change] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)
    # Replaced only because their pod is: consequences of the pod's drift, not drift of their own.
    replaced_with_pod: list[Change] = field(default_factory=list)
    # What narrowed the plan (``Plan.selection``): the headline vouches for that part only.
    selection: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_plan(cls, plan: Plan) -> DriftReport:
        report = cls(unmanaged=list(plan.unmanaged), selection=plan.selection)
        replaced_pods = {c.address for c in plan.changes if c.action == REPLACE and c.address == _pod_of(c.address)}
        for change in plan.changes:
            if _only_with_its_pod(change, replaced_pods):
                report.replaced_with_pod.append(change)
            else:
                {CREATE: report.missing, DELETE: report.undeclared}.get(change.action, report.changed).append(change)
        return report

    @property
    def has_drift(self) -> bool:
        return bool(self.changed or self.missing or self.undeclared)

    def summary(self) -> dict[str, int]:
        return {
            CHANGED: len(self.changed),
            MISSING: len(self.missing),
            UNDECLARED: len(self.undeclared),
            "unmanaged": len(self.unmanaged),
            REPLACED_WITH_POD: len(self.replaced_with_pod),
            "total": len(self.changed) + len(self.missing) + len(self.undeclared),
        }


def render(report: DriftReport, fmt: str) -> str:
    return {"text": render_text, "json": render_json, "markdown": render_markdown}[fmt](report)


def render_json(report: DriftReport) -> str:
    document: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "mailctl_version": __version__,
        "drift": report.has_drift,
        "summary": report.summary(),
        CHANGED: [change_to_json(c) for c in report.changed],
        MISSING: [change_to_json(c) for c in report.missing],
        UNDECLARED: [change_to_json(c) for c in report.undeclared],
        "unmanaged": report.unmanaged,
        REPLACED_WITH_POD: [change_to_json(c) for c in report.replaced_with_pod],
        "selection": selection_to_json(report.selection),
    }
    return json_text(document, indent=2, sort_keys=True)


def _headline(report: DriftReport, quote: Callable[[str], str]) -> str:
    """One line; a narrowed report names what it checked (``quote`` shows each selected value)."""
    s = report.summary()
    aside = f"{s['unmanaged']} unmanaged"
    if s[REPLACED_WITH_POD]:
        aside += f"; {s[REPLACED_WITH_POD]} more replaced with their pod"
    within = selected(report.selection, quote)
    if not report.has_drift:
        if within:
            return f"No drift. Within {within}, the actual state matches the configuration ({aside})."
        return f"No drift: the actual state matches the configuration ({aside})."
    return (
        f"Drift{f' within {within}' if within else ''}: {s['total']} resource(s) differ from the configuration — "
        f"{s[CHANGED]} changed, {s[MISSING]} missing, {s[UNDECLARED]} undeclared ({aside})."
    )


def render_text(report: DriftReport) -> str:
    lines: list[str] = []
    for title, changes in (
        ("Changed", report.changed),
        ("Missing (declared, absent)", report.missing),
        ("Undeclared (exists in a managed scope)", report.undeclared),
        ("Replaced with their pod (nothing of theirs differs; not counted)", report.replaced_with_pod),
    ):
        if changes:
            lines.append(f"{title}:")
            for change in changes:
                lines.append(f"  {shown(change.address)}")
                lines += [f"      # {shown(change.reason)}"] if change.reason else []
                lines += [f"      {diff_text(d)}" for d in change.diff]
            lines.append("")
    if report.unmanaged:
        lines += ["Unmanaged (outside `manage`, left alone):"] + [f"  {shown(a)}" for a in report.unmanaged] + [""]
    lines.append(_headline(report, shown))
    return "\n".join(lines)


def render_markdown(report: DriftReport) -> str:
    lines = ["### mailctl drift report", "", f"**{_headline(report, code)}**", ""]
    rows = (
        [(CHANGED, c) for c in report.changed]
        + [(MISSING, c) for c in report.missing]
        + [(UNDECLARED, c) for c in report.undeclared]
        + [("replaced with pod", c) for c in report.replaced_with_pod]
    )
    if rows:
        names = change_names(change for _, change in rows)
        lines += ["| Resource | Drift | Details (actual → declared) |", "|---|---|---|"]
        for category, change in rows:
            reason = [markdown_cell(change.reason, names)] if change.reason else []
            details = reason + [diff_cell(d) for d in change.diff]
            lines.append(f"| {code(change.address, table=True)} | {category} | {'<br>'.join(details) or '—'} |")
        lines.append("")
    if report.unmanaged:
        lines += ["<details><summary>Unmanaged resources (left alone)</summary>", ""]
        lines += [f"- {code(a)}" for a in report.unmanaged] + ["", "</details>"]
    return "\n".join(lines)


def _pod_of(address: str) -> str | None:
    pod = pod_of(address)
    return pod_address(pod) if pod is not None else None


def _only_with_its_pod(change: Change, replaced_pods: set[str]) -> bool:
    """A child replaced because its pod is, with no difference of its own: not the leftover of an
    interrupted run (whose own reason the pod's replacement overwrote), not renamed, no diff."""
    if change.action != REPLACE or change.diff or change.moved_from is not None or change.actual is None:
        return False
    pod = _pod_of(change.address)
    observed = change.actual.observed
    return pod != change.address and pod in replaced_pods and not (observed.unrecorded or observed.replaced)


def diff_text(d: AttributeChange) -> str:
    """One drifted attribute on one line: ``path: actual (actual) != declared (declared)``."""
    return f"{shown(d.path)}: {shown_value(d.before)} (actual) != {shown_value(d.after)} (declared)"
