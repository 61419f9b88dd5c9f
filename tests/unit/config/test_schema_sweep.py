"""What config/schema.py promises its callers, pinned where a mutation sweep found no test
depending on it: the wording of each kind of problem, where it points, and which problems
`validate(limit=...)` words and counts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from extra_attributes import inbox_with

from mailctl.config import load_texts, schema
from mailctl.config.loader import parse_text
from mailctl.errors import ConfigError
from mailctl.kinds import Attribute


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_texts({"a.yaml": text})
    return [str(p) for p in caught.value.problems]


def _validate(text: str, limit: int) -> schema.Checked:
    doc, problems = parse_text(text, "a.yaml")
    assert doc is not None and problems == []
    return schema.validate(doc, limit=limit)


# --- wording ------------------------------------------------------------------------------------


def test_an_expiry_that_is_no_text_is_a_type_problem_not_a_crash() -> None:
    assert _problems("version: 1\napi_keys:\n  k: {expires_at: 5}\n") == [
        "a.yaml:3:19: api_keys.k.expires_at: expected text, got number `5`"
    ]


@pytest.mark.parametrize(
    ("value", "got"),
    [("null", "nothing (null)"), ("true", "boolean `true`"), ("{a: 1}", "a mapping"), ("[a]", "a list")],
)
def test_a_value_of_the_wrong_type_is_described_for_people(value: str, got: str) -> None:
    assert _problems(f"version: 1\npods:\n  t:\n    name: {value}\n") == [
        f"a.yaml:4:11: pods.t.name: expected text, got {got}"
    ]


WEBHOOK = (
    "version: 1\nwebhooks:\n  w:\n    url: https://example.com/h\n    event_types: [message.received]\n"
    "    headers:\n      X-Auth: {env: %s}\n"
)


@pytest.mark.parametrize(
    ("value", "got"),
    [("true", "a boolean"), ("5", "a number"), ("null", "nothing (null)")],
)
def test_a_header_variable_of_the_wrong_type_names_its_kind_never_its_value(value: str, got: str) -> None:
    assert _problems(WEBHOOK % value) == [
        f"a.yaml:7:21: webhooks.w.headers.X-Auth.env: expected text, got {got} (the value is not shown)"
    ]


def test_a_header_variable_that_breaks_a_rule_is_located_without_its_value() -> None:
    [problem] = _problems(WEBHOOK % "1bad-SECRETXYZ")
    assert problem == (
        "a.yaml:7:21: webhooks.w.headers.X-Auth.env: is not an environment variable name (the value is not shown)"
    )
    assert "SECRETXYZ" not in problem


# --- validate(limit=...): the first by position are worded, the rest counted ---------------------


def test_the_problem_worded_under_a_limit_is_the_first_by_position_of_a_bad_name() -> None:
    # jsonschema finds the bad name (a key of `pods`) before the unknown field inside `t`; the
    # bad name is written later, at its key, so the unknown field is the one worded.
    checked = _validate('version: 1\npods:\n  t:\n    nmae: x\n  "bad name!": {}\n', limit=1)
    assert [str(p) for p in checked.problems] == ["a.yaml:4:5: pods.t.nmae: unknown field `nmae`; did you mean `name`?"]
    assert checked.more == 1 and not checked.valid


def test_problems_beyond_the_limit_are_counted_one_per_field() -> None:
    text = "version: 1\npods:\n  t:\n    nmae: x\n  u: {aa: 1, bb: 2, cc: 3}\nmoved:\n  - {from: a}\n"
    checked = _validate(text, limit=1)
    assert [str(p) for p in checked.problems] == ["a.yaml:4:5: pods.t.nmae: unknown field `nmae`; did you mean `name`?"]
    assert checked.more == 4  # three unknown fields of `u`, `to` missing in moved[0]


def test_without_a_limit_every_problem_is_worded() -> None:
    doc, _ = parse_text("version: 1\npods:\n  t:\n    nmae: x\n  u: {aa: 1, bb: 2, cc: 3}\n", "a.yaml")
    assert doc is not None
    checked = schema.validate(doc)
    assert sorted(p.path for p in checked.problems) == ["pods.t.nmae", "pods.u.aa", "pods.u.bb", "pods.u.cc"]
    assert checked.more == 0


def test_two_missing_fields_beyond_the_shown_hundred_are_counted_as_two() -> None:
    """jsonschema yields one `required` error per missing name: each was counted once per missing
    name (N names, N*N problems) in the count of those not shown."""
    body = "".join(f"  p{i}: {{nmae: x}}\n" for i in range(100))
    with pytest.raises(ConfigError) as caught:
        load_texts({"a.yaml": "version: 1\npods:\n" + body + "moved:\n  - {}\n"})
    lines = str(caught.value).splitlines()
    assert lines[0] == "102 problems in the configuration:"
    assert lines[-1] == "... and 2 more problems"


def test_two_missing_fields_cut_by_the_limit_are_one_worded_and_one_counted() -> None:
    """Each missing name is one problem: under ``limit=1`` one is worded, the other counted (it
    was both worded, one error wording every missing name, and counted twice)."""
    checked = _validate("version: 1\nmoved:\n  - {}\n", limit=1)
    assert [p.message for p in checked.problems] == ["missing required field `from`"]
    assert checked.more == 1
    assert [p.message for p in _validate("version: 1\nmoved:\n  - {}\n", limit=5).problems] == [
        "missing required field `from`",
        "missing required field `to`",
    ]


# --- keywords the fast check lacks, and `not` without a wording --------------------------------


@pytest.fixture
def inbox_with_odd_keywords() -> Iterator[None]:
    """The inbox kind with two more attributes, using keywords the config's own schema does not:
    `multipleOf` (which the compiled fast check lacks) and `not` with no `notErrorMessage`."""
    with inbox_with(
        Attribute("seats", schema={"type": "integer", "multipleOf": 5}),
        Attribute("motto", schema={"type": "string", "not": {"const": "evil"}}),
    ):
        yield


INBOX = "version: 1\npods:\n  t:\n    inboxes:\n      a@agentmail.to: {%s}\n"


@pytest.mark.usefixtures("inbox_with_odd_keywords")
def test_a_schema_the_fast_check_cannot_compile_still_validates() -> None:
    state = load_texts({"a.yaml": INBOX % "seats: 10"}).state
    assert state.resources["pod/t/inbox/a@agentmail.to"].attrs["seats"] == 10
    [problem] = _problems(INBOX % "seats: 7")
    assert problem.startswith("a.yaml:5:31: pods.t.inboxes.a@agentmail.to.seats: ")
    assert "multiple of 5" in problem


@pytest.mark.usefixtures("inbox_with_odd_keywords")
def test_a_not_without_a_wording_gets_jsonschemas_wording() -> None:
    [problem] = _problems(INBOX % "motto: evil")
    assert problem.startswith("a.yaml:5:31: pods.t.inboxes.a@agentmail.to.motto: ")
    assert "evil" in problem


@pytest.fixture
def inbox_holding_an_inbox() -> Iterator[None]:
    """The inbox kind with an attribute whose schema refers to the inbox body itself: a recursive
    schema, as a kind describing nested rules would have."""
    with inbox_with(Attribute("copy", schema={"$ref": "#/$defs/inbox"})):
        yield


@pytest.mark.usefixtures("inbox_holding_an_inbox")
def test_a_recursive_schema_validates_at_any_depth() -> None:
    [problem] = _problems(INBOX % "copy: {copy: {nmae: x}}")
    assert problem.startswith("a.yaml:5:38: pods.t.inboxes.a@agentmail.to.copy.copy.nmae: unknown field `nmae`")
