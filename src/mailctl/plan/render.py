"""Turn a Plan into text people review (Terraform-like) or JSON machines read.

Neither format ever carries a secret: resources hold only declared/managed attributes, and API
key secrets never enter the resource model.

JSON plan format (``format_version`` "1"), one object:

    {"format_version": "1", "mailctl_version": "...",
     "summary": {"create": n, "update": n, "replace": n, "delete": n},
     "changes": [{"address", "kind", "action", "reason", "before", "after",
                  "diff": [{"path", "before", "after", "forces_replacement"}],
                  "forces_replacement": [paths], "data_at_risk": {...} | null}],
     "unmanaged": [addresses], "notes": [messages]}
"""

from __future__ import annotations

import json
from typing import Any

import click

from mailctl import __version__
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE, Change, Plan

FORMAT_VERSION = "1"

_SYMBOL = {CREATE: "+", UPDATE: "~", REPLACE: "-/+", DELETE: "-"}
_COLOUR = {CREATE: "green", UPDATE: "yellow", REPLACE: "magenta", DELETE: "red"}
_VERB = {CREATE: "will be created", UPDATE: "will be updated in place",
         REPLACE: "must be replaced", DELETE: "will be destroyed"}


def plan_to_json(plan: Plan) -> dict[str, Any]:
    return {
        "format_version": FORMAT_VERSION,
        "mailctl_version": __version__,
        "summary": plan.counts(),
        "changes": [change_to_json(c) for c in plan.changes],
        "unmanaged": list(plan.unmanaged),
        "notes": list(plan.notes),
    }


def change_to_json(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind,
        "action": change.action,
        "reason": change.reason,
        "before": change.before,
        "after": change.after,
        "diff": [d.to_json() for d in change.diff],
        "forces_replacement": change.replacement_causes,
        "data_at_risk": change.data_at_risk,
    }


def render_json(plan: Plan) -> str:
    return json.dumps(plan_to_json(plan), indent=2, sort_keys=True)


def render_text(plan: Plan) -> str:
    """The human plan. Styles are ANSI codes; click.echo strips them when not on a terminal."""
    lines: list[str] = []
    if plan.changes:
        lines += ["mailctl will perform the following actions:", ""]
        for change in plan.changes:
            lines += _change_lines(change) + [""]
    if plan.notes:
        lines += ["Notes:"] + [f"  ! {m}" for m in plan.notes] + [""]
    if plan.unmanaged:
        lines += [f"Unmanaged (exists, not declared, outside `manage`; left alone): {len(plan.unmanaged)}"]
        lines += [f"  {a}" + (f"  # {plan.labels[a]}" if a in plan.labels else "") for a in plan.unmanaged] + [""]
    lines.append(click.style(plan.summary(), bold=True))
    return "\n".join(lines)


def _change_lines(change: Change) -> list[str]:
    colour = _COLOUR[change.action]
    header = f"  # {change.address} {_VERB[change.action]}"
    if change.reason:
        header += f" ({change.reason})"
    out = [click.style(header, bold=True)]
    symbol = click.style(f"{_SYMBOL[change.action]:>3}", fg=colour)
    out.append(f"{symbol} {change.kind} \"{change.address}\" {{")
    out += [f"      {line}" for line in _attribute_lines(change)]
    if change.data_at_risk:
        held = ", ".join(f"{n} {what}" for what, n in change.data_at_risk.items())
        out.append(click.style(f"      # holds {held}: deleted with it, permanently", fg="red"))
    out.append("    }")
    return out


def _attribute_lines(change: Change) -> list[str]:
    if change.action == CREATE:
        return [f"+ {k} = {_fmt(v)}" for k, v in sorted((change.after or {}).items())]
    if change.action == DELETE:
        return [f"- {k} = {_fmt(v)}" for k, v in sorted((change.before or {}).items())]
    lines = []
    for d in change.diff:
        suffix = click.style("  # forces replacement", fg="magenta") if d.forces_replacement else ""
        if d.before is None:
            lines.append(f"+ {d.path} = {_fmt(d.after)}{suffix}")
        elif d.after is None:
            lines.append(f"- {d.path} = {_fmt(d.before)}{suffix}")
        else:
            lines.append(f"~ {d.path} = {_fmt(d.before)} -> {_fmt(d.after)}{suffix}")
    return lines


def _fmt(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def render_markdown(plan: Plan) -> str:
    """A plan as a pull-request comment: summary first, a table, details folded."""
    lines = ["### mailctl plan", "", f"**{plan.summary()}**", ""]
    if plan.changes:
        lines += ["| Action | Resource | Details |", "|---|---|---|"]
        for change in plan.changes:
            details = [f"`{d.path}`: `{_fmt(d.before)}` → `{_fmt(d.after)}`"
                       + (" (forces replacement)" if d.forces_replacement else "") for d in change.diff]
            if change.reason:
                details.insert(0, change.reason)
            if change.data_at_risk:
                details.append("⚠️ holds " + ", ".join(f"{n} {w}" for w, n in change.data_at_risk.items()))
            lines.append(f"| {_SYMBOL[change.action]} {change.action} | `{change.address}` | "
                         f"{'<br>'.join(details) or '—'} |")
        lines.append("")
    for title, items in (("Notes", plan.notes), ("Unmanaged (left alone)", plan.unmanaged)):
        if items:
            lines += [f"<details><summary>{title}: {len(items)}</summary>", ""]
            lines += [f"- {item}" for item in items] + ["", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"
