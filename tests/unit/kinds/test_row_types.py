"""Every kind declares the API types of what it reads (``mailctl.kinds.fields``): a new attribute or
kind without them would read its rows unchecked, and a wrong type would be a traceback again."""

from __future__ import annotations

import pytest

from mailctl.kinds import SPECS
from mailctl.kinds.fields import (
    CLIENT_ID,
    FLAG,
    FLAGS,
    METADATA,
    RECORDS,
    SEGMENT,
    TEXT,
    TEXTS,
    TIMESTAMP,
    bad_field,
    required,
)


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda s: s.kind.value)
def test_every_attribute_declares_its_api_type(spec):
    assert [a.name for a in spec.attributes if a.api_type is None] == []


@pytest.mark.parametrize("spec", SPECS.values(), ids=lambda s: s.kind.value)
def test_every_kind_declares_its_id_first_and_required(spec):
    assert spec.id_field is not None and spec.row_fields[spec.id_field].required
    if spec.remote_id_field is not None:
        assert spec.id_field == spec.remote_id_field


@pytest.mark.parametrize(
    "kind, fits, does_not_fit",
    [
        (TEXT, ["", "x"], [1, True, [], {}]),
        (FLAG, [True, False], ["true", 1, 0]),
        (TEXTS, [[], ["a"]], ["a", [1], [["a"]], [{"a": 1}]]),
        (FLAGS, [{}, {"inbox_read": True, "pod_read": None}], ["all", {"x": "yes"}, [True]]),
        (METADATA, [{}, {"k": "v", "n": 1.5, "b": False}], ["gold", {"k": {"a": 1}}, {"k": [1]}, {"k": None}]),
        (TIMESTAMP, ["2026-01-01T00:00:00Z"], ["soon", 5, "0000-01-01T00:00:00+01:00"]),
        (SEGMENT, ["x@a.test", "p-1"], ["a/b", 7]),
        (CLIENT_ID, ["", "tenant-a", "mailctl.lock", "a" * 256], ["a/b", "x/../y", "t a", "t@a", "a" * 257, 5]),
        (
            RECORDS,
            [[], [{"type": "MX", "name": "a.test", "value": "mx.a.test", "status": "VALID", "priority": 10}]],
            ["MX", [{"type": 1}], [{"type": "MX", "name": "a", "value": "b", "status": None}], [["MX"]]],
        ),
    ],
)
def test_field_types(kind, fits, does_not_fit):
    assert [v for v in fits if not kind.fits(v)] == []
    assert [v for v in does_not_fit if kind.fits(v)] == []


def test_a_required_field_is_missing_when_null_or_empty():
    fields = [("id", required(SEGMENT))]
    assert bad_field({"id": "x"}, fields) is None
    assert bad_field({}, fields) is not None and bad_field({"id": ""}, fields) is not None
    assert bad_field({}, [("name", TEXT)]) is None
