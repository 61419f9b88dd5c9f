"""The compiled schema check's lines that the mutation sweep of ``config/fastcheck.py`` found
unpinned: each test names the line whose deletion it catches
(``.ci/mutate.py --worktree --sweep src/mailctl/config/fastcheck.py
tests/unit/config/test_fastcheck.py tests/unit/config/test_load_fast_path.py
tests/unit/config/test_fastcheck_sweep.py``).

A "no" the check gives wrongly costs only time (jsonschema then decides, and finds nothing); a
"yes" it gives wrongly loses problems, and an exception breaks every load. So the survivors that
only turn a "yes" into a "no", or a fast path into a slower one with the same answer, are judged
equivalent and not pinned: ``_no``'s ``return False`` (the ``None`` that follows is as falsy);
``if one is two: return True`` and the text case of ``equal`` (the general comparisons after
them agree for every value a config can hold); ``return _yes`` for ``{}``/``true`` (``{}`` compiles
to ``_yes`` anyway; ``true`` would be refused as unsupported, which the generated schema never
holds); the fused text check and ``return fused``; the one-type and plain-types shortcuts of
``type``; keeping the ``$ref`` trampoline instead of the resolved check; ``return plain`` (the
general mapping check answers the same); and every shortcut of ``_all``. The rest are pinned the
way ``test_fastcheck.py`` pins keywords, on small schemas: the answer must be jsonschema's (the
generated schema uses none of ``minProperties``, ``allOf``, ``uniqueItems: false``, a ``$ref``
to itself, nor ``properties`` beside ``propertyNames``/``patternProperties``, so no config
reaches these lines today). ``uniqueItems: false`` is pinned although its mutation only gives a
wrong "no"."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from mailctl.config.fastcheck import compile_schema


@pytest.mark.parametrize(
    ("small", "value"),
    [
        # k_minProperties: its check was dropped (then calling it crashed)
        ({"minProperties": 1}, {}),
        ({"minProperties": 1}, {"a": 1}),
        ({"minProperties": 1}, "not a mapping"),
        # k_uniqueItems: `uniqueItems: false` allows repeats (`return _yes`)
        ({"uniqueItems": False}, [1, 1]),
        # k_allOf: every schema must hold (its check was dropped)
        ({"allOf": [{"type": "string"}, {"minLength": 2}]}, "a"),
        ({"allOf": [{"type": "string"}, {"minLength": 2}]}, "ab"),
        # mapping.each_key (a mapping with `propertyNames` or `patternProperties`): a value that
        # fails its named property fails the mapping (`return False` after `known(value)`)
        ({"properties": {"a": {"type": "integer"}}, "propertyNames": {"maxLength": 3}}, {"a": "x"}),
        ({"properties": {"a": {"type": "integer"}}, "patternProperties": {"^b": {}}}, {"a": "x", "b": 1}),
        # mapping.each_key: a value that fails its `patternProperties` fails the mapping
        # (`return False` after `sub(value)`)
        ({"patternProperties": {"^x": {"type": "null"}}}, {"xa": 1}),
        ({"patternProperties": {"^x": {"type": "null"}}}, {"xa": None, "b": 1}),
    ],
)
def test_keyword_answers_as_jsonschema_does(small: dict[str, Any], value: Any) -> None:
    """Pins ``k_minProperties``'s ``return``, ``k_uniqueItems``'s ``return _yes``, ``k_allOf``'s
    ``return`` and the two ``return False`` of ``mapping.each_key`` (a named property's value, a
    pattern property's value): each case got another answer
    than jsonschema's (or raised) with that line deleted."""
    assert compile_schema(small)(value) == Draft202012Validator(small).is_valid(value)


def test_a_schema_that_refers_to_itself_compiles_and_answers_as_jsonschema_does() -> None:
    """Pins the trampoline ``self.refs[ref] = lambda ...: cell[0](instance)`` in ``k_ref``:
    without it a definition that refers to itself recursed without end while compiling."""
    tree = {"$defs": {"tree": {"type": "object", "additionalProperties": {"$ref": "#/$defs/tree"}}}}
    small = {**tree, "$ref": "#/$defs/tree"}
    check = compile_schema(small)
    for value in ({}, {"a": {"b": {}}}, {"a": {"b": 1}}, [1]):
        assert check(value) == Draft202012Validator(small).is_valid(value), value
