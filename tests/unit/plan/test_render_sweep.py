"""Plan output the mutation sweep of ``plan/render.py`` found unpinned: each test names the line
whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/plan/render.py tests/unit/plan/test_render_sweep.py``)."""

from __future__ import annotations

import click

from mailctl.plan.changes import CREATE, UPDATE, AttributeChange, Change, Plan, Refusal, Rule
from mailctl.plan.render import render_markdown, render_text
from mailctl.resources import INBOX, Resource

INBOX_ADDR = "pod/t/inbox/x@agentmail.to"
RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: reorders what follows it on screen
FORGED = "api_key/<img src=x onerror=alert(1)> **Plan: 0 to destroy** <details open>"  # a key's name


def _create() -> Change:
    return Change(CREATE, INBOX_ADDR, desired=Resource(INBOX, INBOX_ADDR, {"display_name": "X"}, parent="pod/t"))


def _text(plan: Plan) -> str:
    return click.unstyle(render_text(plan))


def _update(*diff: AttributeChange, reason: str | None = None) -> str:
    return _text(Plan(changes=[Change(UPDATE, INBOX_ADDR, diff=list(diff), reason=reason)]))


def test_change_headers_and_the_summary_are_bold_as_click_would_write_them() -> None:
    """Deleting ``codes += [_ANSI["bold"]] if bold else []`` in ``style`` dropped the bold escape."""
    raw = render_text(Plan(changes=[_create()]))
    assert click.style(f"  # {INBOX_ADDR} will be created", bold=True) in raw.splitlines()
    assert raw.splitlines()[-1] == click.style("Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.", bold=True)


def test_a_plan_with_changes_opens_with_the_actions_heading() -> None:
    """Deleting ``lines += ["mailctl will perform the following actions:", ""]``."""
    assert _text(Plan(changes=[_create()])).startswith(
        f"mailctl will perform the following actions:\n\n  # {INBOX_ADDR} will be created\n"
    )
    assert "following actions" not in _text(Plan())


def test_notes_are_listed_under_their_heading_with_hidden_characters_escaped() -> None:
    """Deleting the line that lists ``plan.notes``, or negating ``if plan.notes:``, dropped them."""
    text = _text(Plan(notes=["--target pod/a matches no pending change", f"pod b{RLO}c waits"]))
    assert "Notes:\n  ! --target pod/a matches no pending change\n  ! pod b\\u202ec waits\n" in text
    assert RLO not in text


def test_each_section_is_set_apart_from_the_next_and_from_the_summary() -> None:
    """Deleting the ``lines += [""]`` that ends the unmanaged list glued it to the summary."""
    plan = Plan(changes=[_create()], notes=["a note"], unmanaged=["api_key/k", "pod/o"], labels={"pod/o": "Other"})
    text = _text(plan)
    assert "    }\n\nNotes:\n" in text
    assert "  ! a note\n\nUnmanaged (" in text
    assert "  pod/o  # Other\n\nPlan: 1 to add" in text


def test_a_change_header_says_why_with_hidden_characters_escaped() -> None:
    """Deleting ``header += f" ({shown(change.reason)})"``, or negating ``if change.reason:``, lost the reason."""
    text = _update(AttributeChange("display_name", "a", "b"), reason=f"pod/t is {RLO}replaced")
    assert f"  # {INBOX_ADDR} will be updated in place (pod/t is \\u202ereplaced)\n" in text
    assert RLO not in text


def test_a_change_header_without_a_reason_has_no_parentheses() -> None:
    """Negating ``if change.reason:`` printed ``(None)`` after every header without a reason."""
    text = _update(AttributeChange("display_name", "a", "b"))
    assert f"  # {INBOX_ADDR} will be updated in place\n" in text
    assert "None" not in text


def test_an_attribute_set_to_null_shows_its_old_value_removed() -> None:
    """Deleting ``block = _assignment("-", path, d.before)`` (``after`` is None) broke the update."""
    text = _update(AttributeChange("permissions", {"inbox_read": True}, None))
    assert '      - permissions = {\n          - "inbox_read" = true\n        }\n' in text


def test_a_scalar_replaced_by_a_map_shows_the_whole_new_map() -> None:
    """Deleting ``block += new`` kept only ``"flat" -> {``: the new map's entries and its closing brace went."""
    text = _update(AttributeChange("metadata.x", "flat", {"a": 1, "b": "two"}))
    assert '      ~ metadata.x = "flat" -> {\n          + "a" = 1\n          + "b" = "two"\n        }\n' in text


def _refused(message: str) -> Plan:
    return Plan(changes=[_create()], refusals=[Refusal(Rule.THRESHOLD, message, (INBOX_ADDR,), "--force")])


def test_markdown_lists_each_refusal_with_its_rule_and_escaped_message() -> None:
    """Deleting the line that lists ``plan.refusals`` left an empty CAUTION box."""
    lines = render_markdown(_refused(f"would destroy x{RLO}y")).splitlines()
    [refusal] = [line for line in lines if line.startswith("> - ")]
    assert refusal.startswith("> - **threshold**: would destroy x") and "u202e" in refusal
    assert RLO not in refusal


def test_markdown_ends_the_caution_box_before_the_summary() -> None:
    """Deleting the ``lines += [""]`` after the refusals put the summary inside the quote: a line
    right after ``> ...`` continues the blockquote (a lazy continuation line)."""
    lines = render_markdown(_refused("too many")).splitlines()
    summary = lines.index("**Plan: 1 to add, 0 to change, 0 to replace, 0 to destroy.**")
    assert lines[summary - 2 : summary] == ["> - **threshold**: too many", ""]


def test_markdown_changes_form_a_table_with_a_header_row() -> None:
    """Deleting the table's header and delimiter rows left rows GitHub shows as plain text."""
    markdown = render_markdown(Plan(changes=[_create()]))
    assert f"| Action | Resource | Details |\n|---|---|---|\n| + create | `{INBOX_ADDR}` | — |\n" in markdown


def test_markdown_folds_notes_and_unmanaged_under_counted_summaries_after_the_table() -> None:
    """Deleting ``<details><summary>{title}: {len(items)}</summary>`` left ``</details>`` unopened;
    deleting the blank line after the table ran the table into the next block."""
    plan = Plan(changes=[_create()], notes=["first", "second"], unmanaged=["api_key/k"])
    markdown = render_markdown(plan)
    assert (
        f"| `{INBOX_ADDR}` | — |\n\n<details><summary>Notes: 2</summary>\n\n- first\n- second\n\n</details>" in markdown
    )
    assert "<details><summary>Unmanaged (left alone): 1</summary>\n\n- `api_key/k`\n\n</details>" in markdown


def test_markdown_refusals_never_carry_live_markup_from_names() -> None:
    """Refusal messages quote addresses, and names the API holds (``ignored_children`` lists what
    mailctl never manages): in the CAUTION box they must read as text, as notes do."""
    lines = render_markdown(_refused(f"would delete {FORGED}")).splitlines()
    [refusal] = [line for line in lines if line.startswith("> - ")]
    assert "<img" not in refusal and "<details" not in refusal and "**Plan" not in refusal


def test_markdown_reasons_never_carry_live_markup_from_names() -> None:
    """A reason quotes addresses the API holds ("moved from api_key/NAME"): in the table's Details
    cell it printed a key's name as live HTML and Markdown, as refusals did."""
    change = Change(UPDATE, INBOX_ADDR, reason=f"moved from {FORGED}\nsecond line")
    [row] = [line for line in render_markdown(Plan(changes=[change])).splitlines() if line.startswith("| ~")]
    assert "<img" not in row and "<details" not in row and "**Plan" not in row
    assert "&lt;img" in row and "<br>second line" in row  # mailctl's own line break stays one
