"""Inboxes, in a pod. The API addresses an inbox by its email (its name here)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mailctl import limits
from mailctl.kinds.base import Attribute, KindSpec, Owners
from mailctl.kinds.fields import CLIENT_ID, METADATA, SEGMENT, TEXT, required
from mailctl.resources import DEFAULT_DOMAIN, Kind, Observed, Resource, domain_address, inbox_address, pod_address


def _read(rows: list[dict[str, Any]], owners: Owners) -> Iterator[Resource]:
    for row in rows:
        pod = owners.pods.get(row.get("pod_id") or "")
        if pod is None:
            continue  # a pod mailctl does not show (the lock pod)
        yield Resource(
            Kind.INBOX,
            inbox_address(pod, row["inbox_id"]),
            INBOX_SPEC.row_attrs(row),
            parent=pod_address(pod),
            remote_id=row["inbox_id"],
            observed=Observed(client_id=row.get("client_id")),
        )


def domain_of(inbox: Resource) -> tuple[str, ...]:
    """The addresses the custom domain of an inbox may have, most specific first, each in its pod
    then organisation-wide: its own domain, then each enclosing one (whose ``subdomains_enabled``
    lets it serve the inbox). The one helper for "which domain is this inbox on" (none for the
    shared ``agentmail.to``)."""
    domain = inbox.name.partition("@")[2]
    if domain == DEFAULT_DOMAIN:
        return ()
    labels = domain.split(".")
    names = [".".join(labels[i:]) for i in range(max(1, len(labels) - 1))]
    return tuple(a for name in names for a in (domain_address(name, pod=inbox.pod), domain_address(name)))


def _identity(inbox: Resource) -> dict[str, Any]:
    username, _, domain = inbox.name.partition("@")
    return {"username": username, "domain": domain}


INBOX_SPEC = KindSpec(
    kind=Kind.INBOX,
    fixed_name="an inbox's address is fixed in the API",
    holds_data=True,
    uses=domain_of,
    section="inboxes",
    parents=frozenset({Kind.POD}),
    attributes=(
        Attribute(
            "metadata",
            api_type=METADATA,
            absent={},
            patch="merge",
            export_default={},
            schema={
                "type": "object",
                "maxProperties": limits.METADATA_ENTRIES,
                "propertyNames": {"minLength": limits.METADATA_KEY.min, "maxLength": limits.METADATA_KEY.max},
                "additionalProperties": {
                    "type": ["string", "number", "boolean"],
                    "maxLength": limits.METADATA_VALUE.max,
                },
            },
            description=f"Free-form metadata (at most {limits.METADATA_ENTRIES} keys; keys and text values at most "
            f"{limits.METADATA_VALUE.max} characters).",
        ),
        Attribute(
            "status",
            api_type=TEXT,
            absent="active",
            create_default="active",
            export_default="active",
            schema={"enum": ["active", "paused"]},
            description="paused stops sending and receiving.",
        ),
        Attribute(
            "display_name",
            api_type=TEXT,
            schema={"type": "string", "maxLength": limits.DISPLAY_NAME.max},
            description="Shown as `Display Name <address>`.",
        ),
    ),
    route="/inboxes",
    list_key="inboxes",
    name_is_id=True,
    row_fields={"inbox_id": required(SEGMENT), "pod_id": TEXT, "client_id": CLIENT_ID},
    lowercase=True,
    unique_name=True,
    identity=_identity,
    read_rows=_read,
)
