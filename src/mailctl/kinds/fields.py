"""The JSON types of the API fields mailctl reads, as the SDK's models (``agentmail``) give them.

Each kind declares the types of the fields it reads: its attributes' (``Attribute.api_type``) and
its ids, scope and client_id (``KindSpec.row_fields``). The reader checks every row against them
before reading it (``mailctl.api.rows``): a field of another type is an answer that is not the
API's, reported as such, never an AttributeError in whatever code first touched it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from mailctl.resources import normalize_timestamp


@dataclass(frozen=True)
class FieldType:
    """What a field's value must be: ``what`` names it in errors ("text", "a list of text")."""

    what: str
    fits: Callable[[Any], bool]
    required: bool = False  # absent, null or "" is wrong too (an id)
    quoted: bool = False  # text that does not fit is quoted in errors (ids, names: never a secret)


def required(kind: FieldType) -> FieldType:
    return replace(kind, required=True)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float)  # bool is an int


def _timestamp(value: Any) -> bool:
    try:
        return isinstance(value, str) and bool(normalize_timestamp(value))
    except (ValueError, OverflowError):
        return False


_CLIENT_ID = re.compile(r"[A-Za-z0-9._~-]{1,256}")

TEXT = FieldType("text", _text)
FLAG = FieldType("true or false", lambda v: isinstance(v, bool))
TEXTS = FieldType("a list of text", lambda v: isinstance(v, list) and all(map(_text, v)))
# ApiKeyPermissions: each flag optional
FLAGS = FieldType(
    "an object of true/false flags",
    lambda v: isinstance(v, dict) and all(f is None or isinstance(f, bool) for f in v.values()),
)
# Inbox Metadata: str -> str | float | bool
METADATA = FieldType(
    "an object of text, number and true/false values", lambda v: isinstance(v, dict) and all(map(_scalar, v.values()))
)
TIMESTAMP = FieldType("an ISO 8601 timestamp", _timestamp, quoted=True)
# Becomes a segment of an address: a "/" in it would read as another address (pod/a/domain/z).
SEGMENT = FieldType("text without '/'", lambda v: isinstance(v, str) and "/" not in v, quoted=True)
# The API refuses any other client_id (400): one that is not this did not come from the API.
# "" reads as none (a pod without one is addressed by its pod_id), as it always has.
CLIENT_ID = FieldType(
    "1-256 characters from A-Z a-z 0-9 - . _ ~",
    lambda v: isinstance(v, str) and (v == "" or _CLIENT_ID.fullmatch(v) is not None),
    quoted=True,
)


def _record(value: Any) -> bool:
    """A VerificationRecord: text ``type``, ``name``, ``value`` and ``status``, a number ``priority`` (MX)."""
    if not isinstance(value, dict) or not all(isinstance(value.get(k), str) for k in ("type", "name", "value")):
        return False
    priority = value.get("priority")
    return isinstance(value.get("status", ""), str) and (priority is None or isinstance(priority, int | float))


# A domain's DNS records (its GET, not its list rows: ``mailctl dns`` prints them).
RECORDS = FieldType(
    "a list of DNS records (text type, name, value and status)", lambda v: isinstance(v, list) and all(map(_record, v))
)


def bad_field(row: Mapping[str, Any], fields: Iterable[tuple[str, FieldType]]) -> tuple[str, FieldType] | None:
    """The first of ``fields`` that ``row`` lacks (a required one) or holds with another type."""
    for name, kind in fields:
        value = row.get(name)
        missing = value is None or (value == "" and kind.required)
        if (missing and kind.required) or (not missing and not kind.fits(value)):
            return name, kind
    return None
