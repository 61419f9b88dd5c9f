"""API rows checked against the types their kind declares (``mailctl.kinds.fields``) as they enter
mailctl: a row that is not the API's is an UnexpectedResponse naming the row, the field and the
request, before any code relies on a field's type (``client_id.startswith``, ``inbox_id.lower``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from mailctl.api.responses import ApiObject, clip, describe_json
from mailctl.errors import UnexpectedResponse
from mailctl.kinds import KindSpec
from mailctl.kinds.fields import FieldType
from mailctl.text import shown

_QUOTE_LIMIT = 60


def checked(spec: KindSpec, row: Mapping[str, Any]) -> ApiObject:
    """``row`` (an item of ``spec``'s lists) when every field it reads has the API's type."""
    obj = _as_object(spec, row)
    bad = spec.bad_field(obj)
    if bad is None:
        return obj
    name, kind = bad
    which = obj.what if name == spec.id_field else _named(obj, spec.id_field)
    raise UnexpectedResponse(200, f"{which} has {_problem(obj.get(name), name, kind)}", obj.method, obj.path)


def checked_rows(spec: KindSpec, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [checked(spec, row) for row in rows]


def checked_value(obj: ApiObject, name: str, kind: FieldType | None) -> Any:
    """``obj.get(name)``, when it has the type ``kind`` (None: any) or is absent."""
    value = obj.get(name)
    if kind is None or value is None or kind.fits(value):
        return value
    raise UnexpectedResponse(200, f"{obj.what} has {_problem(value, name, kind)}", obj.method, obj.path)


def _as_object(spec: KindSpec, row: Mapping[str, Any]) -> ApiObject:
    """An ApiObject knows its request; a plain row (handed over, built in a test) is its list's."""
    if isinstance(row, ApiObject):
        return row
    return ApiObject(dict(row), "GET", f"/v0{spec.route}", f"an item of {spec.list_key or spec.section!r}")


def _named(obj: ApiObject, id_field: str | None) -> str:
    """What the row is, with its id when it has one to show: ``an item of 'pods' (pod_id 'p1')``."""
    value = obj.get(id_field) if id_field else None
    return f"{obj.what} ({id_field} {_quote(value)})" if isinstance(value, str) and value else obj.what


def _problem(value: Any, name: str, kind: FieldType) -> str:
    if value is None or value == "":
        return f"no {name!r}"
    found = f"text ({_quote(value)})" if isinstance(value, str) and kind.quoted else describe_json(value)
    return f"a {name!r} that is {found}, not {kind.what}"


def _quote(text: str) -> str:
    return shown(repr(clip(text, _QUOTE_LIMIT)))
