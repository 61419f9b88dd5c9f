"""The compiled schema check (config/fastcheck.py) answers exactly as jsonschema does: it decides
alone that a document is valid, so a "valid" it gives to an invalid document would lose problems.
Compared on the real schema with mutated real documents, and keyword by keyword on small schemas."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from mailctl.config import schema
from mailctl.config.fastcheck import Unsupported, compile_schema, equal
from mailctl.config.loader import parse_text

ROOT = Path(__file__).resolve().parents[3]


def _documents() -> list[Any]:
    docs = []
    for directory in ("examples", "tests/fixtures"):
        for file in sorted((ROOT / directory).rglob("*.y*ml")):
            doc, _ = parse_text(file.read_text(encoding="utf-8", errors="replace"), str(file))
            if doc is not None:
                docs.append(doc.data)
    return docs


DOCUMENTS = _documents()


def _words(node: Any, out: set[str]) -> set[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            out.add(str(key))
            _words(value, out)
    elif isinstance(node, list):
        for item in node:
            _words(item, out)
    elif isinstance(node, str):
        out.add(node)
    return out


WORDS = sorted(_words(DOCUMENTS, set()) | _words(schema.schema(), set()))
EDGE_TEXT = ["", "x" * 257, "9999-12-31T23:59:59-23:59", "2030-01-01T00:00:00Z", "a@b.co", "A@B.CO", "${x}", "template"]
TEXT = st.sampled_from(WORDS + EDGE_TEXT) | st.text(max_size=6)
SCALARS = (
    st.none()
    | st.booleans()
    | st.sampled_from([0, 1, 2, 1.0, 1.5, -1, 10**9, 3600, 86400, 2**31])
    | st.integers(-5, 500)
    | st.floats(allow_nan=False)
    | TEXT
)
VALUES = st.recursive(
    SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=8
)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            out.extend(_paths(value, path + (key,)))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            out.extend(_paths(item, path + (i,)))
    return out


@st.composite
def mutated_documents(draw: st.DrawFn) -> Any:
    doc = copy.deepcopy(draw(st.sampled_from(DOCUMENTS)))
    for _ in range(draw(st.integers(0, 3))):
        path = draw(st.sampled_from(_paths(doc)))
        if not path:
            continue
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "add", "rename"]))
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            value = parent.pop(path[-1]) if action == "rename" else draw(VALUES)
            parent[draw(TEXT)] = value
        else:
            parent.append(draw(VALUES))
    return doc


def _jsonschema_says_valid(instance: Any) -> bool:
    return not any(schema._validator().iter_errors(instance))


def test_the_real_schema_compiles() -> None:
    """Every keyword the generated schema uses is known: no document pays jsonschema's price."""
    assert schema._fast_check() is not None


def test_every_stored_document_gets_jsonschemas_answer() -> None:
    assert DOCUMENTS
    check = schema._fast_check()
    assert check is not None
    for doc in DOCUMENTS:
        assert check(doc) == _jsonschema_says_valid(doc), doc


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_a_mutated_document_gets_jsonschemas_answer(doc: Any) -> None:
    check = schema._fast_check()
    assert check is not None
    assert check(doc) == _jsonschema_says_valid(doc)


SMALL_SCHEMAS: list[dict[str, Any]] = [
    {"type": "integer"},
    {"type": ["number", "null"]},
    {"type": "boolean"},
    {"const": 1},
    {"const": True},
    {"const": [1, {"a": False}]},
    {"enum": [0, "a", None, 1.5]},
    {"type": "array", "uniqueItems": True},
    {"items": {"type": "string", "minLength": 2}, "maxItems": 2, "minItems": 1},
    {"pattern": "^a", "maxLength": 3},
    {"pattern": "b"},
    {"minimum": 0, "maximum": 10},
    {"not": {"type": "string"}},
    {"maxProperties": 1, "propertyNames": {"pattern": "^[a-z]+$"}},
    {"properties": {"a": {"type": "integer"}}, "required": ["a"], "additionalProperties": False},
    {"properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}},
    {"patternProperties": {"^x": {"type": "null"}}, "additionalProperties": False},
    {"if": {"required": ["a"]}, "then": {"maxProperties": 1}, "else": {"type": "array"}},
    {"$defs": {"n": {"type": "string"}}, "$ref": "#/$defs/n"},
    {"anyOf": [{"type": "string"}, {"minimum": 3}]},
    {"oneOf": [{"type": "integer"}, {"minimum": 3}]},
]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(SMALL_SCHEMAS), VALUES)
def test_each_keyword_means_what_jsonschema_means(small: dict[str, Any], value: Any) -> None:
    assert compile_schema(small)(value) == Draft202012Validator(small).is_valid(value)


@pytest.mark.parametrize(
    ("small", "value"),
    [
        ({"type": "integer"}, 1.0),
        ({"type": "integer"}, True),
        ({"const": 1}, True),
        ({"const": 1}, 1.0),
        ({"enum": [False]}, 0),
        ({"type": "array", "uniqueItems": True}, [1, True]),
        ({"type": "array", "uniqueItems": True}, [1, 1.0]),
        ({"type": "array", "uniqueItems": True}, [{"a": [1]}, {"a": [1.0]}]),
        ({"pattern": "b"}, "abc"),
        ({"maxLength": 1}, "\U0001f600"),
        ({"minimum": 1}, "0"),
        ({"patternProperties": {"^x": {"type": "null"}}, "additionalProperties": False}, {"xa": None}),
    ],
)
def test_json_schema_corners(small: dict[str, Any], value: Any) -> None:
    assert compile_schema(small)(value) == Draft202012Validator(small).is_valid(value)


@pytest.mark.parametrize(
    "small",
    [
        {"properties": {"a": {"dependentRequired": {"a": ["b"]}}}},  # a keyword it does not know
        {"items": [{"type": "string"}]},  # a node that is neither a schema nor a boolean
        {"$ref": "https://example.com/other.json"},  # a reference outside the document
        {"$ref": "../defs/a", "$defs": {"a": {}}},  # ... even one ending like a definition's name
        {"$ref": "#/$defs/missing", "$defs": {}},  # ... or to nothing
        {"$ref": "#/$defs/a/b", "$defs": {"a": {"b": {}}}},  # ... or into a definition
        {"type": "decimal"},  # a type JSON Schema does not have
    ],
)
def test_a_schema_it_cannot_evaluate_is_refused_not_ignored(small: dict[str, Any]) -> None:
    """Refused, the caller validates with jsonschema instead; ignored, it would answer "valid"."""
    with pytest.raises(Unsupported):
        compile_schema(small)


@pytest.mark.parametrize(
    ("one", "two", "same"),
    [
        ([True], [1], False),  # true is not 1, inside a list as anywhere
        ({"a": False}, {"a": 0}, False),  # ... nor false 0, inside an object
        ([1.0, [2]], [1, [2.0]], True),  # 1.0 is 1, however deep
        ({"a": [1]}, {"a": [1], "b": 2}, False),
        (["a", 1], ["a", 1, 1], False),
    ],
)
def test_equal_is_json_equality_as_jsonschema_sees_it(one: Any, two: Any, same: bool) -> None:
    """``enum`` and ``const`` compare with ``equal``: a Python ``==`` on lists and objects would
    take ``[true]`` for ``[1]``."""
    assert equal(one, two) is same and equal(two, one) is same
    assert Draft202012Validator({"const": one}).is_valid(two) is same  # the reference agrees
