"""Webhooks, at any scope. The API gives a webhook no name, so its client_id carries the config
name; organisation webhooks may subscribe to pods, organisation and pod ones to inboxes."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from mailctl import limits
from mailctl.kinds.base import Attribute, KindSpec, Owners, Tail
from mailctl.kinds.fields import CLIENT_ID, FLAG, SEGMENT, TEXT, TEXTS, required
from mailctl.resources import (
    Kind,
    Observed,
    Resource,
    WriteOnly,
    split_address,
)

PREFIX = "mailctl-webhook-"
EVENT_TYPES = limits.EVENT_TYPES


# RFC 9110: a header name is a token; a value is limits.header_value_fault's to check.
_TOKEN = "!#$%&'*+\\-.^_`|~0-9A-Za-z"
_VALUE = limits.WEBHOOK_HEADER_VALUE


def _any_case(names: Iterable[str]) -> str:
    """A pattern matching exactly one of ``names`` (lower-case letters and '-', literal in every
    regex dialect) in any case: ECMA regexes have no ``(?i)``."""
    spelled = ("".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in name) for name in names)
    return "^(?:" + "|".join(spelled) + ")$"


def header_names(names: Iterable[str]) -> list[str]:
    """Header names are case-insensitive: compared (and shown in plans) lower-cased, sorted."""
    return sorted({name.lower() for name in names})


def header_values(headers: Mapping[str, Any]) -> tuple[dict[str, WriteOnly], list[tuple[Tail, str]]]:
    """Each declared header's value: a literal, or ``{env: NAME}`` read from the environment now.
    Problems name the header and the variable, never the value."""
    values: dict[str, WriteOnly] = {}
    problems: list[tuple[Tail, str]] = []
    seen: dict[str, str] = {}
    for name, given in headers.items():
        first = seen.setdefault(name.lower(), name)
        if first != name:
            problems.append(
                ((name,), f"header `{name}` is declared twice (also as `{first}`; names are case-insensitive)")
            )
            continue
        var = given.get("env") if isinstance(given, Mapping) else None
        where: Tail = (name, "env") if var is not None else (name,)
        value = os.environ.get(var) if isinstance(var, str) else given if isinstance(given, str) else None
        problem = _value_problem(name, var, value)
        if problem is None:
            values[name] = WriteOnly(value, env=var)
        else:
            problems.append((where, problem))
    return values, problems


def _value_problem(name: str, var: Any, value: str | None) -> str | None:
    source = f"`{var}`, the value of header `{name}`," if var is not None else f"the value of header `{name}`"
    if value is None and isinstance(var, str):
        return f"environment variable `{var}` is not set (header `{name}` takes its value from it)"
    if value is None:
        return f"header `{name}` must be text or {{env: VARIABLE}} (its value is not shown)"
    if len(value) > _VALUE.max:
        return f"{source} is longer than {_VALUE.max} characters"
    fault = limits.header_value_fault(value)
    return None if fault is None else f"{source} {fault}; the value is not shown"


def normalize_event_types(values: list[str]) -> list[str]:
    """Event types are a set: sorted, unique."""
    return sorted(set(values))


def client_id(address: str) -> str:
    """A digest of the full address, then the name (config names use only client_id-safe
    characters): the reader recovers the name from the client_id alone, and the digest proves
    the pair was made by mailctl."""
    digest = hashlib.sha256(address.encode()).hexdigest()[:16]
    return f"{PREFIX}{digest}-{split_address(address)[-1][1]}"


def name_from_client_id(value: str | None, scope: str | None) -> str | None:
    """The config name of a webhook mailctl created in ``scope``, or None if it did not."""
    if not value or not value.startswith(PREFIX) or len(value) < len(PREFIX) + 18:
        return None
    name = value[len(PREFIX) + 17 :]
    return name if client_id(WEBHOOK_SPEC.address(name, scope)) == value else None


def _read(rows: list[dict[str, Any]], owners: Owners) -> Iterator[Resource]:
    for row in rows:
        owner = owners.of(row)
        if owner is None:
            continue
        pod, inbox = owner
        parent = owners.parent(pod, inbox)
        name = name_from_client_id(row.get("client_id"), parent) or row["webhook_id"]
        attrs = WEBHOOK_SPEC.row_attrs(row, only=("url", "enabled", "event_types"))
        if pod is None and inbox is None:
            attrs["pods"] = sorted(owners.pods.get(p, p) for p in row.get("pod_ids") or [])
        if inbox is None:
            attrs["inboxes"] = sorted(i.lower() for i in row.get("inbox_ids") or [])
        yield Resource(
            Kind.WEBHOOK,
            WEBHOOK_SPEC.address(name, parent),
            attrs,
            parent=parent,
            remote_id=row["webhook_id"],
            observed=Observed(client_id=row.get("client_id")),
        )


WEBHOOK_SPEC = KindSpec(
    kind=Kind.WEBHOOK,
    fixed_name="its name travels in its client_id, which the API cannot change",
    section="webhooks",
    parents=frozenset({None, Kind.POD, Kind.INBOX}),
    attributes=(
        Attribute(
            "url",
            api_type=TEXT,
            mutable=False,
            required=True,
            schema={
                "type": "string",
                "maxLength": limits.WEBHOOK_URL.max,
                # host (or [IPv6]), then a port the API takes (0-65535, ASCII digits), then the rest
                "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://(?:[^\\s/?#@:\\[\\]]+|\\[[0-9A-Fa-f:.]+\\])"
                "(?::0*(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[0-9]{1,4})?)?"
                "(?:[/?#]\\S*)?$",
                "patternErrorMessage": "is not an absolute http:// or https:// URL (its port, if any, 0-65535)",
            },
            description="Delivery URL. Immutable: changing it replaces the webhook (new signing secret).",
        ),
        Attribute(  # a create cannot disable it
            "enabled",
            api_type=FLAG,
            absent=True,
            on_create=False,
            schema={"type": "boolean"},
            description="false disables delivery; true re-enables a webhook disabled after failures.",
        ),
        Attribute(
            "event_types",
            api_type=TEXTS,
            normalise=normalize_event_types,
            absent=[],
            required=True,
            schema={"type": "array", "minItems": 1, "items": {"enum": list(EVENT_TYPES)}},
            description="Events to deliver (at least one).",
        ),
        Attribute(
            "pods",
            api_type=TEXTS,
            normalise=lambda pods: sorted(set(pods)),
            api_field="pod_ids",
            refers_to=Kind.POD,
            patch="set",
            create_default=[],
            export_default=[],
            scopes=frozenset({None}),
            schema={
                "type": "array",
                "minItems": 1,
                "maxItems": limits.WEBHOOK_PODS,
                "items": {"$ref": "#/$defs/podClientId"},
            },
            description="Only events from these declared pods (by client_id).",
        ),
        Attribute(
            "inboxes",
            api_type=TEXTS,
            normalise=lambda emails: sorted({e.lower() for e in emails}),
            api_field="inbox_ids",
            refers_to=Kind.INBOX,
            patch="set",
            create_default=[],
            export_default=[],
            scopes=frozenset({None, Kind.POD}),
            schema={"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/emailAddress"}},
            description="Only events from these declared inboxes (of the same pod, at pod scope).",
        ),
        Attribute(  # names are diffed; values are write-only: sent, never read back or shown
            "headers",
            api_type=TEXTS,  # its names, at its sub-route
            normalise=header_names,
            create_default=[],
            write_only=header_values,
            sub_route="headers",
            read_key="header_names",
            schema={
                "type": "object",
                "propertyNames": {
                    "maxLength": limits.WEBHOOK_HEADER_NAME.max,
                    "pattern": f"^[{_TOKEN}]+$",
                    "patternErrorMessage": "is not a valid HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
                    "not": {"pattern": _any_case(limits.WEBHOOK_RESERVED_HEADERS)},
                    "notErrorMessage": "is reserved: every delivery sets or frames it itself (reserved, any case: "
                    + ", ".join(limits.WEBHOOK_RESERVED_HEADERS)
                    + ")",
                },
                # No "type" on values: a schema error would quote the value. header_values words those.
                "additionalProperties": {
                    "maxLength": _VALUE.max,
                    "required": ["env"],
                    "properties": {
                        "env": {
                            "type": "string",
                            "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                            "patternErrorMessage": "is not an environment variable name",
                            "description": "The environment variable holding the value, read when the config "
                            "is loaded.",
                        }
                    },
                    "additionalProperties": False,
                    "description": "The value: text, or {env: VARIABLE}. Never shown, never stored in plan files.",
                },
            },
            description="Custom delivery headers, name: value. Only names are compared (the API never returns "
            "values): `mailctl rotate webhook/...` pushes changed values. {} removes every header.",
        ),
    ),
    route="/webhooks",
    list_key="webhooks",
    remote_id_field="webhook_id",
    # Its client_id carries its name (an address segment); its id is its name when it has none.
    row_fields={"webhook_id": required(SEGMENT), "pod_id": TEXT, "inbox_id": TEXT, "client_id": CLIENT_ID},
    client_id=client_id,
    read_rows=_read,
)
