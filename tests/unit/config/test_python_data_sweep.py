"""A config given as Python data (``Project(config=...)``): the lines that the mutation sweep of
``config/python_data.py`` found unpinned; each test names the line whose deletion (or negated
``if``) it catches (``.ci/mutate.py --worktree --sweep src/mailctl/config/python_data.py
tests/unit/python_api/test_config_dicts.py tests/unit/python_api/test_arguments.py
tests/unit/python_api/test_plan_objects.py tests/unit/python_api/test_python_wording.py
tests/unit/python_api/test_secrets_callback.py``: 93 mutations, 76 killed, 0 timeouts,
17 survivors before this file; 15 pinned here).

Survivors judged equivalent, not pinned: the last ``return None`` of ``_Writer.scalar`` (the
function returns None without it); ``return "\\\\" + ch`` for ``"`` and ``\\`` in ``_escape``
(without it they are written ``\\x22`` and ``\\x5c``, which YAML reads as the same characters)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from mailctl import Project
from mailctl.errors import ConfigError

PLAIN = "use str, int, float, bool, None, a dict (any Mapping) or a list (or tuple)"


def load(config: Any, tmp_path: Path) -> dict[str, dict[str, Any]]:
    state = Project(config=config, sandbox=tmp_path / "sb.db").load()
    return {address: r.attrs for address, r in state.resources.items()}


def error(config: Any, tmp_path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(config, tmp_path)
    return caught.value


def problems(config: Any, tmp_path: Path) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in error(config, tmp_path).problems]


def inbox(**fields: Any) -> dict[str, Any]:
    return {"version": 1, "pods": {"t-a": {"name": "A", "inboxes": {"a@agentmail.to": fields}}}}


METADATA = "pods.t-a.inboxes.a@agentmail.to.metadata"


def test_problems_past_the_shown_ones_are_counted(tmp_path: Path):
    """Pins ``self.more += 1`` in ``_Writer.problem``: 150 values that are not data show 100
    problems and say how many more there are."""
    caught = error(inbox(metadata={f"k{i:03}": {1, 2} for i in range(150)}), tmp_path)
    assert len(caught.problems) == 100
    assert str(caught).startswith("150 problems in the configuration:\n")
    assert str(caught).endswith("\n... and 50 more problems")


def test_data_too_large_is_one_problem_whatever_was_found_before(tmp_path: Path):
    """Pins ``writer.more = 0`` after ``_TooLarge`` in ``config_text``: the size is the one
    problem reported, not counted with the 150 found before it was reached."""
    metadata: dict[str, Any] = {f"k{i:03}": {1, 2} for i in range(150)}
    metadata["zz"] = "x" * 6_000_000
    caught = error(inbox(metadata=metadata), tmp_path)
    assert str(caught) == (
        "1 problem in the configuration:\n<config>:1:1: the config is larger than 5000000 bytes once written as YAML"
    )


def test_a_key_that_cannot_be_written_is_reported_and_its_value_is_not_examined(tmp_path: Path):
    """Pins ``continue`` after a key holding a lone surrogate in ``_Writer.mapping``: the key is
    the one problem; what is below it is not written, so not reported as well."""
    assert problems(inbox(metadata={"k\udfff": {"a": object()}}), tmp_path) == [
        (
            f"{METADATA}.k\udfff",
            "`\\udfff` is a lone UTF-16 surrogate, which cannot be encoded as UTF-8: write the character itself, "
            "or its full code point",
        )
    ]


@pytest.mark.parametrize("empty", [[], ()])
def test_an_empty_list_is_a_value_the_loader_checks(tmp_path: Path, empty: Any):
    """Pins ``self.emit(f"{head} []")`` and the ``return`` after it in ``_Writer.entry``: an
    empty list is written as ``[]`` once, so a field that wants a mapping says it got a list."""
    config = {"version": 1, "pods": {"t-a": {"name": "A", "inboxes": empty}}}
    assert problems(config, tmp_path) == [("pods.t-a.inboxes", "expected a mapping, got a list")]
    assert problems(inbox(metadata={"l": empty}), tmp_path) == [
        (f"{METADATA}.l", "expected text, a number or true or false, got a list")
    ]


def test_none_is_null_as_in_a_file(tmp_path: Path):
    """Pins ``return "null"`` in ``_Writer.scalar``: ``None`` is YAML's null, which the loader
    then checks like a file's ``name: null``."""
    config = {"version": 1, "pods": {"t-a": {"name": None}}}
    assert problems(config, tmp_path) == [("pods.t-a.name", "expected text, got nothing (null)")]


def test_a_bool_is_true_or_false_not_a_number(tmp_path: Path):
    """Pins ``return "true" if value else "false"`` in ``_Writer.scalar``: without it a bool was
    written as the int it also is (``1``)."""
    config = {"version": 1, "domains": {"x.example.com": {"feedback_enabled": True}}}
    attrs = load(config, tmp_path)["domain/x.example.com"]
    assert attrs == {"feedback_enabled": True} and type(attrs["feedback_enabled"]) is bool
    config["domains"]["x.example.com"]["feedback_enabled"] = False
    assert load(config, tmp_path)["domain/x.example.com"] == {"feedback_enabled": False}


def test_an_int_too_long_to_write_out_is_one_problem_never_dropped(tmp_path: Path):
    """Pins ``self.problem(path, "a number too large to write out")`` and the ``return None``
    after it: without the first the value was silently left out of the config; without the
    second it was reported twice."""
    assert problems(inbox(metadata={"n": 10**5000}), tmp_path) == [(f"{METADATA}.n", "a number too large to write out")]


def test_values_that_cannot_be_written_are_all_located_where_the_next_key_is(tmp_path: Path):
    """Pins ``return None`` after a lone surrogate and after a number that is not finite in
    ``_Writer.scalar``: no value that cannot be written takes a line of the text, whatever makes
    it so, so the problems after it are located alike."""
    metadata = {"a": "x\ud800", "b": math.nan, "c": {1}, "d": "ok", "e": math.inf}
    assert [(p.line, p.path) for p in error(inbox(metadata=metadata), tmp_path).problems] == [
        (8, f"{METADATA}.a"),
        (8, f"{METADATA}.b"),
        (8, f"{METADATA}.c"),
        (9, f"{METADATA}.e"),
    ]


@pytest.mark.parametrize(
    ("key", "shown"),
    [
        pytest.param(1, "key 1 is a Python int", id="int"),
        pytest.param(None, "key None is a Python NoneType", id="none"),
        pytest.param(1.5, "key 1.5 is a Python float", id="float"),
        pytest.param(10**50, "key is a Python int", id="int-of-51-digits"),
        pytest.param(10**5000, "key is a Python int", id="int-too-long-to-write"),
        pytest.param((1, 2), "key is a Python tuple", id="tuple"),
        pytest.param(b"k", "key is a Python bytes", id="bytes"),
    ],
)
def test_a_key_that_is_not_text_is_shown_when_short_plain_data(tmp_path: Path, key: Any, shown: str):
    """Pins ``_key_repr``: its ``if`` (only None and numbers are written out), ``return ""`` for
    an int too long to write, the ``return`` of a short repr (40 characters at most) and the
    final ``return ""`` for any other type."""
    assert problems(inbox(metadata={key: "x"}), tmp_path) == [(METADATA, f"{shown}: keys must be text (str)")]
