"""Names and values from config or the API are printed with control and bidirectional characters
escaped (issue 17 point 4): a config cannot rewrite what a reviewer sees. Pure logic: the helper
and every renderer of a hand-made plan. The CLI over HTTP is tests/e2e/test_e2e_hostile_output.py."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from mailctl.cli.github import drift_warning, problem_annotation, workflow_command
from mailctl.errors import ConfigError, Problem
from mailctl.plan import drift
from mailctl.plan.changes import CREATE, DELETE, UPDATE, AttributeChange, Change, Plan, Refusal, Rule
from mailctl.plan.render import render_json, render_markdown, render_text
from mailctl.resources import Resource
from mailctl.text import hides, shown, shown_value

# What must never reach a terminal or a browser raw: C0, DEL, C1, bidi controls, separators.
HIDDEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")
HOSTILE = "Evil\u202eCorp\x1b[2J\x07\x00\x7f\x85\u2066x\u200f\u061c"


@pytest.mark.parametrize(
    ("raw", "seen"),
    [
        ("\x1b[31m", "\\x1b[31m"),
        ("\x00\x07\x08\x7f", "\\x00\\x07\\x08\\x7f"),
        ("a\nb\rc\td", "a\\nb\\rc\\td"),
        ("\x85\x9b", "\\x85\\x9b"),  # C1: NEL, CSI
        ("\u202agoo\u202c \u202e", "\\u202agoo\\u202c \\u202e"),
        ("\u2066\u2067\u2068\u2069\u200e\u200f\u061c", "\\u2066\\u2067\\u2068\\u2069\\u200e\\u200f\\u061c"),
        ("\u2028\u2029", "\\u2028\\u2029"),
        ("a\u200bb\u2060c\ufeff", "a\\u200bb\\u2060c\\ufeff"),  # invisible: zero-width space, joiner, BOM
        ("\ud800", "\\ud800"),  # a lone surrogate could not even be encoded
    ],
)
def test_hidden_characters_are_shown_as_escapes(raw: str, seen: str) -> None:
    assert shown(raw) == seen


@pytest.mark.parametrize(
    ("raw", "seen"),
    [
        ("co\u00adop", "co\\xadop"),  # soft hyphen: "co-op" and "coop" would print alike
        ("a\u2061\u2062\u2063\u2064b", "a\\u2061\\u2062\\u2063\\u2064b"),  # invisible operators
        ("x\u180ey", "x\\u180ey"),  # Mongolian vowel separator
        ("t\U000e0041\U000e007f", "t\\U000e0041\\U000e007f"),  # tag characters
        ("\u3164\u115f\u034f", "\\u3164\\u115f\\u034f"),  # fillers and the grapheme joiner: blank
    ],
)
def test_invisible_format_characters_are_shown_as_escapes(raw: str, seen: str) -> None:
    assert shown(raw) == seen


def test_every_format_character_but_the_joiners_scripts_need_is_escaped() -> None:
    """Unicode category Cf is invisible by definition; only ZWNJ and ZWJ stay (scripts, emoji)."""
    import sys
    import unicodedata

    kept = {"\u200c", "\u200d"}
    format_characters = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Cf"]
    assert [c for c in format_characters if c not in kept and shown(c) == c] == []
    assert shown("\u200c\u200d") == "\u200c\u200d"


def test_every_noncharacter_is_escaped() -> None:
    """U+FDD0-U+FDEF and the last two code points of every plane are not characters at all
    (Unicode keeps them for a program's internal use): a terminal prints them as nothing."""
    noncharacters = [chr(c) for c in range(0xFDD0, 0xFDF0)]
    noncharacters += [chr(plane << 16 | low) for plane in range(17) for low in (0xFFFE, 0xFFFF)]
    assert len(noncharacters) == 66
    assert [c for c in noncharacters if shown(c) == c or not hides(c)] == []
    assert shown("a\U0010ffffb") == "a\\U0010ffffb" and shown("\ufffe") == "\\ufffe"


def test_ordinary_text_and_non_ascii_are_kept_as_they_are() -> None:
    for text in ("Zoë", "漢字テスト", "Ελληνικά", "emoji 🎉", "a\\u202e literal backslash", "tab-free"):
        assert shown(text) == text


def test_keep_leaves_mailctls_own_line_breaks() -> None:
    assert shown("line one\nline \x1b two", keep="\n") == "line one\nline \\x1b two"


def test_a_value_is_json_with_every_hidden_character_escaped() -> None:
    assert shown_value({"k\u202e": "v\x1b"}) == '{"k\\u202e": "v\\u001b"}'
    assert shown_value("Zoë") == '"Zoë"'


def _hostile_plan() -> Plan:
    return Plan(
        changes=[
            Change(
                CREATE, "pod/t-evil", desired=Resource("pod", "pod/t-evil", {"name": HOSTILE}), reason=f"for {HOSTILE}"
            ),
            Change(
                UPDATE,
                "pod/t-evil/inbox/bot@agentmail.to",
                diff=[
                    AttributeChange("display_name", "Zoë", HOSTILE),
                    AttributeChange(f"metadata.{HOSTILE}", None, HOSTILE),
                    AttributeChange("metadata", {HOSTILE: 1}, {"k": [HOSTILE]}),
                ],
            ),
            Change(DELETE, f"api_key/{HOSTILE}", actual=Resource("api_key", f"api_key/{HOSTILE}", {"name": HOSTILE})),
        ],
        unmanaged=[f"api_key/{HOSTILE}", "pod/p-1"],
        labels={"pod/p-1": HOSTILE},
        notes=[f"note about {HOSTILE}"],
        refusals=[Refusal(Rule.THRESHOLD, f"would delete {HOSTILE}", (f"api_key/{HOSTILE}",))],
    )


@pytest.mark.parametrize("render", [render_text, render_markdown], ids=["text", "markdown"])
def test_plans_for_people_show_hidden_characters_as_escapes(render) -> None:  # type: ignore[no-untyped-def]
    out = render(_hostile_plan())
    assert not HIDDEN.search(out.replace("\x1b[", "")), out  # only mailctl's own colour escapes
    assert "\\u202e" in out and "\\x1b" in out or "\\u001b" in out
    assert "Zoë" in out


def test_plan_json_stays_exact() -> None:
    plan = json.loads(render_json(_hostile_plan()))
    assert plan["changes"][0]["after"]["name"] == HOSTILE
    assert not HIDDEN.search(render_json(_hostile_plan()))  # json.dumps escapes them all already


def test_drift_reports_show_hidden_characters_as_escapes() -> None:
    report = drift.DriftReport.from_plan(_hostile_plan())
    for fmt in ("text", "markdown"):
        out = drift.render(report, fmt)
        assert not HIDDEN.search(out), out
        assert "\\u202e" in out
    assert json.loads(drift.render(report, "json"))["unmanaged"][0] == f"api_key/{HOSTILE}"


def test_github_annotations_show_hidden_characters_as_escapes() -> None:
    plan = _hostile_plan()
    lines = [drift_warning("changed", c) for c in plan.changes[1:]]
    lines.append(workflow_command("error", HOSTILE, file=f"{HOSTILE}.yaml", line=1))
    lines.append(problem_annotation(Problem(f"{HOSTILE}.yaml", 1, 2, f"pods.{HOSTILE}", f"bad `{HOSTILE}`")))
    for line in lines:
        assert not HIDDEN.search(line), line
        assert "\\u202e" in line


def test_config_errors_escape_keys_and_quoted_values_one_line_per_problem() -> None:
    error = ConfigError([Problem("a.yaml", 3, 5, f"pods.{HOSTILE}\nfake", f"unknown field `{HOSTILE}`")])
    lines = str(error).splitlines()
    assert len(lines) == 2  # the header and the one problem: a newline in a key forges no line
    assert not HIDDEN.search(str(error))
    assert lines[1].startswith("a.yaml:3:5: pods.Evil\\u202eCorp\\x1b[2J")


def test_config_written_as_yaml_escapes_hidden_characters_and_loads_back_the_same() -> None:
    # export, import and render write YAML that people review in a terminal or a pull request.
    from mailctl.config.dump import dump_yaml

    tree = {"pods": {"t": {"name": HOSTILE, "metadata": {"k\u202eey": "Zoë\u2066", "plain": "Zoë 漢字"}}}}
    text = dump_yaml(tree)
    assert not HIDDEN.search(text)
    assert "Zoë 漢字" in text  # ordinary non-ASCII stays readable
    assert yaml.safe_load(text) == tree


def test_config_written_as_yaml_quotes_text_that_yaml_12_reads_as_a_number() -> None:
    """Text such as `1e3` is plain text to mailctl (YAML 1.1) but a number to YAML 1.2 tools, and
    validate refuses it plain: export, import and render quote it, so their output validates."""
    from mailctl.config import load_texts
    from mailctl.config.dump import dump_yaml

    texts = ["1e3", "1.0e3", "0o17", "-2E-5", "1:30", "017", "1_000", "0b101", "12", "3.5"]
    tree = {
        "version": 1,
        "pods": {"t": {"inboxes": {"a@agentmail.to": {"metadata": {f"k{i}": t for i, t in enumerate(texts)}}}}},
    }
    text = dump_yaml(tree)
    state = load_texts({"out.yaml": text}).state  # no problem raised
    assert state.resources["pod/t/inbox/a@agentmail.to"].attrs["metadata"] == {f"k{i}": t for i, t in enumerate(texts)}


# Every space separator but U+0020 prints as a space: "Acme Corp" and "Acme\xa0Corp" printed alike,
# and a plan replaced a pod whose name showed no change at all ("Acme Corp" -> "Acme Corp").
LOOKALIKE_SPACES = "\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"


def test_every_space_but_the_ascii_one_is_shown_as_an_escape() -> None:
    import sys
    import unicodedata

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)) == "Zs"]
    assert sorted(spaces) == sorted(" " + LOOKALIKE_SPACES)
    assert [c for c in LOOKALIKE_SPACES if shown(c) == c] == []
    assert shown("Acme\xa0Corp") == "Acme\\xa0Corp" and shown("a\u3000b") == "a\\u3000b"
    assert shown("Acme Corp") == "Acme Corp"


@pytest.mark.parametrize("render", [render_text, render_markdown], ids=["text", "markdown"])
def test_a_change_between_lookalike_spaces_shows_in_the_plan(render) -> None:  # type: ignore[no-untyped-def]
    before, after = {"name": "Acme Corp"}, {"name": "Acme\u00a0Corp"}
    change = Change(
        UPDATE,
        "pod/acme",
        desired=Resource("pod", "pod/acme", after),
        actual=Resource("pod", "pod/acme", before),
        diff=[AttributeChange("name", "Acme Corp", "Acme\u00a0Corp")],
    )
    out = render(Plan(changes=[change]))
    assert '"Acme Corp"' in out and '"Acme\\xa0Corp"' in out and "\xa0" not in out


def test_a_key_name_holding_a_lookalike_space_is_still_declarable() -> None:
    """Escaped when printed, so two names differing by one no longer print alike: not refused
    (unlike a character that prints as nothing)."""
    from mailctl.kinds import spec_of

    refuse = spec_of("api_key").refuse
    assert refuse is not None
    assert refuse("ops\u00a0key") is None


def test_config_written_as_yaml_escapes_lookalike_spaces_and_loads_back_the_same() -> None:
    from mailctl.config.dump import dump_yaml

    tree = {"pods": {"t": {"name": "Acme\u00a0Corp", "metadata": {"k": "a\u3000b", "plain": "Zoë 漢字"}}}}
    text = dump_yaml(tree)
    assert "\xa0" not in text and "\u3000" not in text
    assert "Zoë 漢字" in text
    assert yaml.safe_load(text) == tree


def test_the_graph_shows_lookalike_spaces_as_escapes() -> None:
    from mailctl.plan.graph import visible

    assert visible("Acme\u00a0Corp") == "Acme\\u00a0Corp" and visible("a b") == "a b"
