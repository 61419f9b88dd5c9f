"""Webhooks, at any scope. The API gives a webhook no name, so its client_id carries the config
name; organisation webhooks may subscribe to pods, organisation and pod ones to inboxes."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

from mailctl import limits
from mailctl.kinds.base import Attribute, KindSpec, Owners
from mailctl.resources import (
    Kind,
    Observed,
    Resource,
    split_address,
)

PREFIX = "mailctl-webhook-"
EVENT_TYPES = (
    "message.received",
    "message.received.spam",
    "message.received.blocked",
    "message.received.unauthenticated",
    "message.security.completed",
    "message.security.review",
    "message.security.override",
    "message.sent",
    "message.delivered",
    "message.bounced",
    "message.complained",
    "message.rejected",
    "message.opened",
    "domain.verified",
    "calendar.event.created",
    "calendar.event.updated",
    "calendar.event.deleted",
    "calendar.event.responded",
    "calendar.event.starting",
    "calendar.event.ending",
)


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
            mutable=False,
            required=True,
            schema={
                "type": "string",
                "maxLength": limits.WEBHOOK_URL.max,
                "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s/?#@]+(?:[/?#]\\S*)?$",
                "patternErrorMessage": "is not an absolute http:// or https:// URL",
            },
            description="Delivery URL. Immutable: changing it replaces the webhook (new signing secret).",
        ),
        Attribute(  # a create cannot disable it
            "enabled",
            absent=True,
            on_create=False,
            schema={"type": "boolean"},
            description="false disables delivery; true re-enables a webhook disabled after failures.",
        ),
        Attribute(
            "event_types",
            normalise=normalize_event_types,
            absent=[],
            required=True,
            schema={"type": "array", "minItems": 1, "items": {"enum": list(EVENT_TYPES)}},
            description="Events to deliver (at least one).",
        ),
        Attribute(
            "pods",
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
    ),
    route="/webhooks",
    list_key="webhooks",
    remote_id_field="webhook_id",
    client_id=client_id,
    read_rows=_read,
)
