"""Drift reports: the plan, seen as "how far has reality moved from the config".

Categories (the summary counts are what a monitor alerts on):

- ``changed``: declared and present, but an attribute differs (would be updated or replaced);
- ``missing``: declared but absent (would be created);
- ``undeclared``: present in a managed scope but not declared (would be deleted);
- ``unmanaged``: present outside every managed scope: listed for information, not drift.

Only declared attributes are compared, normalised on both sides, so server-set fields
(timestamps, ids, secrets' prefixes, verification status), ordering and API defaults never show.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from mailctl import __version__
from mailctl.plan.changes import CREATE, DELETE, AttributeChange, Change, Plan
from mailctl.plan.render import change_to_json, code, diff_cell
from mailctl.text import shown, shown_value

FORMAT_VERSION = "1"
CHANGED, MISSING, UNDECLARED = "changed", "missing", "undeclared"


@dataclass
class DriftReport:
    changed: list[Change] = field(default_factory=list)
    missing: list[Change] = field(default_factory=list)
    undeclared: list[Change] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)

    @classmethod
    def from_plan(cls, plan: Plan) -> DriftReport:
        report = cls(unmanaged=list(plan.unmanaged))
        for change in plan.changes:
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
    }
    return json.dumps(document, indent=2, sort_keys=True)


def _headline(report: DriftReport) -> str:
    s = report.summary()
    if not report.has_drift:
        return f"No drift: the actual state matches the configuration ({s['unmanaged']} unmanaged)."
    return (
        f"Drift: {s['total']} resource(s) differ from the configuration — {s[CHANGED]} changed, "
        f"{s[MISSING]} missing, {s[UNDECLARED]} undeclared ({s['unmanaged']} unmanaged)."
    )


def render_text(report: DriftReport) -> str:
    lines: list[str] = []
    for title, changes in (
        ("Changed", report.changed),
        ("Missing (declared, absent)", report.missing),
        ("Undeclared (exists in a managed scope)", report.undeclared),
    ):
        if changes:
            lines.append(f"{title}:")
            for change in changes:
                lines.append(f"  {shown(change.address)}")
                lines += [f"      {diff_text(d)}" for d in change.diff]
            lines.append("")
    if report.unmanaged:
        lines += ["Unmanaged (outside `manage`, left alone):"] + [f"  {shown(a)}" for a in report.unmanaged] + [""]
    lines.append(_headline(report))
    return "\n".join(lines)


def render_markdown(report: DriftReport) -> str:
    lines = ["### mailctl drift report", "", f"**{_headline(report)}**", ""]
    rows = (
        [(CHANGED, c) for c in report.changed]
        + [(MISSING, c) for c in report.missing]
        + [(UNDECLARED, c) for c in report.undeclared]
    )
    if rows:
        lines += ["| Resource | Drift | Details (actual → declared) |", "|---|---|---|"]
        for category, change in rows:
            details = "<br>".join(diff_cell(d) for d in change.diff)
            lines.append(f"| {code(change.address)} | {category} | {details or '—'} |")
        lines.append("")
    if report.unmanaged:
        lines += ["<details><summary>Unmanaged resources (left alone)</summary>", ""]
        lines += [f"- {code(a)}" for a in report.unmanaged] + ["", "</details>"]
    return "\n".join(lines)


def diff_text(d: AttributeChange) -> str:
    """One drifted attribute on one line: ``path: actual (actual) != declared (declared)``."""
    return f"{shown(d.path)}: {shown_value(d.before)} (actual) != {shown_value(d.after)} (declared)"
