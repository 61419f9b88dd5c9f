"""Plan output: Terraform-like blocks for maps and lists, no null lines on create, a data-at-risk
line only when something is at risk, Markdown cells that survive `|` and newlines."""

from __future__ import annotations

import json

import click
import pytest

from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE, AttributeChange, Change, Plan
from mailctl.plan.drift import DriftReport
from mailctl.plan.drift import render as render_drift
from mailctl.plan.render import render_json, render_markdown, render_text
from mailctl.resources import API_KEY, INBOX, WEBHOOK, Resource

INBOX_ADDR = "pod/t/inbox/x@agentmail.to"
HOOK_ADDR = "pod/t/webhook/events"


def _text(*changes: Change) -> str:
    return click.unstyle(render_text(Plan(changes=list(changes))))


def _inbox(**attrs: object) -> Resource:
    return Resource(INBOX, INBOX_ADDR, dict(attrs), parent="pod/t")


def test_a_created_map_is_one_line_per_key_like_terraform():
    text = _text(Change(CREATE, INBOX_ADDR, desired=_inbox(display_name="X", metadata={"team": "x", "n": 2})))
    assert (
        '      + display_name = "X"\n'
        "      + metadata = {\n"
        '          + "n" = 2\n'
        '          + "team" = "x"\n'
        "        }\n"
        "    }"
    ) in text
    assert '{"n"' not in text


def test_a_created_list_is_one_item_per_line():
    hook = Resource(
        WEBHOOK,
        HOOK_ADDR,
        {"url": "https://h.test/x", "event_types": ["message.received", "message.sent"]},
        parent="pod/t",
    )
    text = _text(Change(CREATE, HOOK_ADDR, desired=hook))
    assert (
        '      + event_types = [\n          + "message.received",\n          + "message.sent",\n        ]\n'
    ) in text


def test_nested_maps_and_lists_indent_further_and_empty_ones_stay_inline():
    text = _text(Change(CREATE, INBOX_ADDR, desired=_inbox(metadata={"a": {"b": [1]}, "e": {}, "l": []})))
    assert (
        "      + metadata = {\n"
        '          + "a" = {\n'
        '              + "b" = [\n'
        "                  + 1,\n"
        "                ]\n"
        "            }\n"
        '          + "e" = {}\n'
        '          + "l" = []\n'
        "        }\n"
    ) in text


def test_a_create_never_prints_null_attributes():
    key = Resource(API_KEY, "pod/t/api_key/k", {"permissions": None, "expires_at": None}, parent="pod/t")
    text = _text(Change(CREATE, "pod/t/api_key/k", desired=key))
    assert "null" not in text and "permissions" not in text
    assert '+ api_key "pod/t/api_key/k" {\n    }' in text


def test_a_delete_lists_maps_with_minus_and_skips_nulls():
    text = _text(Change(DELETE, INBOX_ADDR, actual=_inbox(display_name=None, metadata={"team": "x"})))
    assert '      - metadata = {\n          - "team" = "x"\n        }\n' in text
    assert "null" not in text


def test_a_changed_list_shows_removed_added_and_kept_items():
    diff = [
        AttributeChange("event_types", ["message.received", "message.sent"], ["message.received", "message.bounced"])
    ]
    text = _text(Change(UPDATE, HOOK_ADDR, diff=diff))
    assert (
        "      ~ event_types = [\n"
        '          + "message.bounced",\n'
        '            "message.received",\n'
        '          - "message.sent",\n'
        "        ]\n"
    ) in text


def test_scalar_changes_stay_on_one_line_and_name_what_forces_replacement():
    diff = [
        AttributeChange("url", "https://a.test", "https://b.test", forces_replacement=True),
        AttributeChange("metadata.tier", "silver", "gold"),
    ]
    text = _text(Change(REPLACE, HOOK_ADDR, diff=diff))
    assert '      ~ url = "https://a.test" -> "https://b.test"  # forces replacement\n' in text
    assert '      ~ metadata.tier = "silver" -> "gold"\n' in text


def test_a_map_replacing_a_scalar_shows_both_blocks():
    diff = [AttributeChange("permissions", None, {"inbox_read": True}), AttributeChange("metadata.x", {"a": 1}, "flat")]
    text = _text(Change(UPDATE, INBOX_ADDR, diff=diff))
    assert '      + permissions = {\n          + "inbox_read" = true\n        }\n' in text
    assert ('      ~ metadata.x = {\n          - "a" = 1\n        } -> "flat"\n') in text


def test_no_data_at_risk_line_when_the_inbox_holds_nothing():
    empty = Change(DELETE, INBOX_ADDR, actual=_inbox(), data_at_risk={"threads": 0, "messages": 0, "drafts": 0})
    assert "holds" not in _text(empty)
    assert "holds" not in render_markdown(Plan(changes=[empty]))
    assert json.loads(render_json(Plan(changes=[empty])))["changes"][0]["data_at_risk"] == {
        "threads": 0,
        "messages": 0,
        "drafts": 0,
    }  # JSON keeps the counts


def test_data_at_risk_line_when_the_inbox_holds_mail():
    full = Change(DELETE, INBOX_ADDR, actual=_inbox(), data_at_risk={"threads": 1, "messages": 2, "drafts": 0})
    assert "      # holds 1 threads, 2 messages, 0 drafts: deleted with it, permanently" in _text(full)


def test_markdown_table_cells_escape_pipes_and_newlines():
    diff = [AttributeChange("display_name", "a|b", "c\nd")]
    change = Change(UPDATE, INBOX_ADDR, diff=diff, reason="why | not\nnow")
    markdown = render_markdown(Plan(changes=[change]))
    (row,) = [line for line in markdown.splitlines() if line.startswith("| ~ update")]
    assert row.count(" | ") == 2 + 0 and row.endswith(" |")  # still three cells
    assert "why \\| not<br>now" in row and '"a\\|b"' in row and "\\n" in row


def test_drift_markdown_cells_escape_pipes():
    change = Change(UPDATE, INBOX_ADDR, diff=[AttributeChange("display_name", "a|b", "c")])
    markdown = render_drift(DriftReport(changed=[change]), "markdown")
    (row,) = [line for line in markdown.splitlines() if line.startswith(f"| `{INBOX_ADDR}`")]
    assert '"a\\|b"' in row and row.count(" | ") == 2


def test_markdown_lists_never_carry_live_markup_from_names():
    """Notes and unmanaged addresses hold names from the API and the command line: in a PR comment
    they must read as text, not as HTML or emphasis a name could forge."""
    forged = "api_key/<img src=x onerror=alert(1)> **Plan: 99 to destroy** <details open>"
    plan = Plan(unmanaged=[forged], notes=[f"--target {forged} matches no pending change"])
    out = render_markdown(plan)
    assert f"- `{forged}`" in out.splitlines()  # an address: a code span, where markup is inert
    [note] = [line for line in out.splitlines() if "matches no pending change" in line]
    assert "<img" not in note and "<details" not in note and "**" not in note
    assert "&lt;img src=x onerror=alert\\(1\\)&gt;" in note


@pytest.mark.parametrize(
    ("name", "span"),
    [
        ("a_b*c", "`a_b*c`"),  # a code span prints its content literally: no Markdown escapes
        ("k\nz", "`k\\nz`"),  # as the text plan shows it, never <br> (a code span prints that as is)
        ("k<br>z", "`k<br>z`"),
        ("a`b", "``a`b``"),  # a fence longer than any backtick run inside
        ("a``b`", "``` a``b` ```"),  # padded where the content ends (or starts) with a backtick
        (" a ", "`  a  `"),  # CommonMark strips one space from both ends: padded to keep them
        ("a|b", "`a|b`"),
    ],
)
def test_a_code_span_shows_exactly_what_the_text_plan_shows(name, span):
    from mailctl.plan.render import code

    assert code(name) == span


def test_a_code_span_in_a_table_cell_escapes_only_the_pipe():
    from mailctl.plan.render import code

    assert code("a|b_c", table=True) == "`a\\|b_c`"


def test_a_refusal_keeps_mailctls_code_spans_and_escapes_a_names_backticks():
    from mailctl.plan.changes import Refusal, Rule

    address = "pod/t/api_key/a`<b>`z"
    message = f"{address} is protected by manage.protect `pod/t/api_key/*`, but: run `mailctl rotate {address}`"
    plan = Plan(changes=[Change(DELETE, address)], refusals=[Refusal(Rule.PROTECT, message, (address,))])
    (line,) = [line for line in render_markdown(plan).splitlines() if line.startswith("> - **protect**")]
    assert line == (
        "> - **protect**: pod/t/api\\_key/a\\`&lt;b&gt;\\`z is protected by manage.protect `pod/t/api_key/*`, "
        "but: run ``mailctl rotate pod/t/api_key/a`<b>`z``"
    )
