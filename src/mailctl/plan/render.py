"""Turn a Plan into text people review (Terraform-like) or JSON machines read.

Neither format ever carries a secret: resources hold only declared/managed attributes, and API
key secrets never enter the resource model.

JSON plan format (``format_version`` "1"), one object:

    {"format_version": "1", "mailctl_version": "...",
     "summary": {"create": n, "update": n, "replace": n, "delete": n},
     "changes": [{"address", "kind", "action", "reason", "before", "after",
                  "diff": [{"path", "before", "after", "forces_replacement"}],
                  "forces_replacement": [paths], "data_at_risk": {...} | null}],
     "unmanaged": [addresses], "notes": [messages],
     "refusals": [{"rule", "message", "addresses", "lifted_by"}],
     "selection": [{"flag", "value"}]}

``selection`` is what narrowed the plan (``--target``, ``--exclude``, ``--shard``,
``--changed-since``...), as given; empty for the whole config. A plan without changes vouches
only for that part.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from mailctl import __version__
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE, AttributeChange, Change, Plan
from mailctl.text import json_text, shown, shown_value

FORMAT_VERSION = "1"

_SYMBOL = {CREATE: "+", UPDATE: "~", REPLACE: "-/+", DELETE: "-"}
_COLOUR = {CREATE: "green", UPDATE: "yellow", REPLACE: "magenta", DELETE: "red"}
_ANSI = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "magenta": "35"}

_VERB = {
    CREATE: "will be created",
    UPDATE: "will be updated in place",
    REPLACE: "must be replaced",
    DELETE: "will be destroyed",
}


def style(text: str, fg: str | None = None, bold: bool = False) -> str:
    """ANSI styling, the same escapes click.style writes. The plan layer never decides whether
    colour is wanted: the CLI prints with click.echo, which strips escapes when colour is off."""
    codes = [_ANSI[fg]] if fg else []
    codes += [_ANSI["bold"]] if bold else []
    return "".join(f"\x1b[{c}m" for c in codes) + text + "\x1b[0m"


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The ``plan --format json`` document, as plain JSON data (strings, not enum members)."""
    return {
        "format_version": FORMAT_VERSION,
        "mailctl_version": __version__,
        "summary": {str(action): count for action, count in plan.counts().items()},
        "changes": [change_to_json(c) for c in plan.changes],
        "unmanaged": list(plan.unmanaged),
        "notes": list(plan.notes),
        "refusals": [{**r.to_json(), "rule": str(r.rule)} for r in plan.refusals],
        "selection": selection_to_json(plan.selection),
    }


def selection_to_json(selection: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"flag": flag, "value": value} for flag, value in selection]


def change_to_json(change: Change) -> dict[str, Any]:
    return {
        "address": change.address,
        "kind": change.kind,
        "action": str(change.action),  # plain JSON data (Project's Plan.to_dict()), not the enum
        "reason": change.reason,
        "before": change.before,
        "after": change.after,
        "diff": [d.to_json() for d in change.diff],
        "forces_replacement": change.replacement_causes,
        "data_at_risk": change.data_at_risk,
        "moved_from": change.moved_from,
    }


def render_json(plan: Plan) -> str:
    return json_text(plan_to_json(plan), indent=2, sort_keys=True)


def render_text(plan: Plan) -> str:
    """The human plan, styled with ANSI escapes (see :func:`style`)."""
    lines: list[str] = []
    if plan.changes:
        lines += ["mailctl will perform the following actions:", ""]
        for change in plan.changes:
            lines += _change_lines(change) + [""]
    if plan.notes:
        lines += ["Notes:"] + [f"  ! {shown(m)}" for m in plan.notes] + [""]
    if plan.unmanaged:
        why = "exists, not declared, outside `manage` or matched by `manage.ignore`; left alone"
        lines += [f"Unmanaged ({why}): {len(plan.unmanaged)}"]
        lines += [
            f"  {shown(a)}" + (f"  # {shown(plan.labels[a])}" if a in plan.labels else "") for a in plan.unmanaged
        ]
        lines += [""]
    lines.append(style(plan.summary(shown), bold=True))
    # Last, on the plan's own stream: a text plan redirected to a file or a PR never looks clean.
    lines += [style(f"Warning: apply would refuse: {shown(r.message)}", fg="yellow") for r in plan.refusals]
    return "\n".join(lines)


def _change_lines(change: Change) -> list[str]:
    colour = _COLOUR[change.action]
    header = f"  # {shown(change.address)} {_VERB[change.action]}"
    if change.reason:
        header += f" ({shown(change.reason)})"
    out = [style(header, bold=True)]
    symbol = style(f"{_SYMBOL[change.action]:>3}", fg=colour)
    out.append(f'{symbol} {change.kind} "{shown(change.address)}" {{')
    out += [f"      {line}" for line in _attribute_lines(change)]
    held = change.held
    if held:
        out.append(style(f"      # holds {held}: deleted with it, permanently", fg="red"))
    out.append("    }")
    return out


def _attribute_lines(change: Change) -> list[str]:
    if change.action in (CREATE, DELETE):
        symbol, attrs = ("+", change.after) if change.action == CREATE else ("-", change.before)
        # An absent value (null) is not something created or destroyed: leave it out.
        return [line for k, v in sorted((attrs or {}).items()) if v is not None for line in _assignment(symbol, k, v)]
    lines = []
    for d in change.diff:
        path = shown(d.path)
        suffix = style("  # forces replacement", fg="magenta") if d.forces_replacement else ""
        if d.before is None:
            block = _assignment("+", path, d.after)
        elif d.after is None:
            block = _assignment("-", path, d.before)
        elif isinstance(d.before, list) and isinstance(d.after, list):
            block = [f"~ {path} = ["] + _indented(_list_changes(d.before, d.after)) + ["  ]"]
        else:
            *old, last = _value_lines("-", d.before)
            first, *new = _value_lines("+", d.after)
            block = [f"~ {path} = {line}" if i == 0 else line for i, line in enumerate([*old, f"{last} -> {first}"])]
            block += new
        lines += [block[0] + suffix, *block[1:]]
    return lines


# Values as Terraform prints them: scalars inline, maps and lists one entry per line, each entry
# marked with what happens to it; nested blocks indent by four, closing brackets by two.


def _assignment(symbol: str, name: str, value: Any) -> list[str]:
    first, *rest = _value_lines(symbol, value)
    return [f"{symbol} {name} = {first}", *rest]


def _value_lines(symbol: str, value: Any) -> list[str]:
    if isinstance(value, dict) and value:
        entries = [line for k in sorted(value) for line in _assignment(symbol, _fmt(str(k)), value[k])]
        return ["{", *_indented(entries), "  }"]
    if isinstance(value, list) and value:
        return ["[", *_indented([line for item in value for line in _item(symbol, item)]), "  ]"]
    return [_fmt(value)]


def _item(symbol: str, value: Any) -> list[str]:
    first, *rest = _value_lines(symbol, value)
    lines = [f"{symbol} {first}", *rest]
    lines[-1] += ","
    return lines


def _list_changes(before: list[Any], after: list[Any]) -> list[str]:
    """Items removed (-), added (+) and kept, in a stable order; lists are compared as multisets."""
    old, new = Counter(_fmt(v) for v in before), Counter(_fmt(v) for v in after)
    values = {_fmt(v): v for v in [*before, *after]}
    lines = []
    for key in sorted(old | new):
        kept = min(old[key], new[key])
        for symbol, count in (("-", old[key] - kept), (" ", kept), ("+", new[key] - kept)):
            lines += [line for _ in range(count) for line in _item(symbol, values[key])]
    return lines


def _indented(lines: list[str]) -> list[str]:
    return [f"    {line}" for line in lines]


_fmt = shown_value


def render_markdown(plan: Plan) -> str:
    """A plan as a pull-request comment: summary first, a table, details folded."""
    names = plan_names(plan)
    lines = ["### mailctl plan", ""]
    if plan.refusals:
        lines += ["> [!CAUTION]", "> **`mailctl apply` will refuse this plan:**"]
        lines += [f"> - **{r.rule}**: {markdown_cell(r.message, names, table=False)}" for r in plan.refusals]
        lines += [""]
    lines += [f"**{plan.summary(code)}**", ""]
    if plan.changes:
        lines += ["| Action | Resource | Details |", "|---|---|---|"]
        for change in plan.changes:
            details = [diff_cell(d) + (" (forces replacement)" if d.forces_replacement else "") for d in change.diff]
            if change.reason:
                details.insert(0, markdown_cell(change.reason, names))
            held = change.held
            if held:
                details.append(f"⚠️ holds {held}")
            lines.append(
                f"| {_SYMBOL[change.action]} {change.action} | {code(change.address, table=True)} | "
                f"{'<br>'.join(details) or '—'} |"
            )
        lines.append("")
    for title, items in (
        ("Notes", [markdown_text(n) for n in plan.notes]),
        ("Unmanaged (left alone)", [code(a) for a in plan.unmanaged]),
    ):
        if items:
            lines += [f"<details><summary>{title}: {len(items)}</summary>", ""]
            lines += [f"- {item}" for item in items] + ["", "</details>", ""]
    return "\n".join(lines).rstrip() + "\n"


def plan_names(plan: Plan) -> set[str]:
    """The addresses a plan's reasons and refusals may quote: their backticks are the name's, not
    the start of one of mailctl's code spans (:func:`markdown_cell`)."""
    return {*plan.unmanaged, *(a for r in plan.refusals for a in r.addresses), *change_names(plan.changes)}


def change_names(changes: Iterable[Change]) -> set[str]:
    """The addresses each change's reason may quote: its own, the one it moves from, the actual's."""
    return {
        a
        for change in changes
        for a in (change.address, change.moved_from, change.actual.address if change.actual else None)
        if a
    }


def diff_cell(d: AttributeChange) -> str:
    """`path`: `before` → `after`, safe inside a Markdown table cell."""
    return f"{code(d.path, table=True)}: {code(_fmt(d.before), table=True)} → {code(_fmt(d.after), table=True)}"


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]{}()#+!|~])")


def markdown_text(text: str) -> str:
    """Prose with names in it (a note) as Markdown text that stays text: HTML and Markdown
    punctuation escaped, so a name cannot forge markup (``<details>``, ``**Plan: ...**``)."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", html.escape(shown(text), quote=False))


_INLINE_MARKUP = re.compile(r"([\\`*_\[\]|~])")
_CODE_SPAN = re.compile(r"`([^`]*)`")  # mailctl's own: `...`, once the names' backticks are masked
_MASK = "\x00"  # never in shown() text, which escapes every control character


def markdown_cell(text: str, names: Iterable[str] = (), table: bool = True) -> str:
    """mailctl's prose with names in it (a reason, a refusal) inside a table cell (``table``) or a
    list item. mailctl's own `code` spans stay code spans, their content as the text plan shows it
    (:func:`code`); the rest is text, each line break as <br>: HTML and the punctuation that makes
    emphasis, links, code or cells escaped, so a name cannot forge markup. A backtick of one of
    ``names`` (the addresses the text quotes) is the name's: text, or part of a code span's content."""
    held = {shown(n, keep="\n") for n in names if "`" in n}
    masked = shown(text, keep="\n")
    order = sorted(held, key=len, reverse=True)
    for i, name in enumerate(order):
        masked = masked.replace(name, f"{_MASK}{i}{_MASK}")

    def unmasked(part: str) -> str:
        return re.sub(f"{_MASK}(\\d+){_MASK}", lambda m: order[int(m.group(1))], part)

    def prose(part: str) -> str:
        escaped = _INLINE_MARKUP.sub(r"\\\1", html.escape(unmasked(part), quote=False))
        return "<br>".join(escaped.split("\n"))

    out, at = [], 0
    for span in _CODE_SPAN.finditer(masked):
        out += [prose(masked[at : span.start()]), code(unmasked(span.group(1)), table=table)]
        at = span.end()
    return "".join([*out, prose(masked[at:])])


def code(text: str, table: bool = False) -> str:
    """An inline code span showing ``text`` as the text plan does (hidden characters and line
    breaks as escapes: a code span prints its content literally, ``<br>`` included). Its fence is
    longer than any run of backticks inside, padded where the content starts or ends with one (or
    with a space at both ends, which CommonMark would strip). In a table cell (``table``) GitHub
    needs `|` escaped even in a code span; anywhere else the backslash would show."""
    content = shown(text)
    if table:
        content = content.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall("`+", content)), default=0) + 1)
    spaced = content[:1] == content[-1:] == " " and content.strip(" ")
    pad = " " if content[:1] == "`" or content[-1:] == "`" or spaced else ""
    return f"{fence}{pad}{content}{pad}{fence}"
