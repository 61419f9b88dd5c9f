"""Custom domains, at organisation or pod scope. Verification is the writer's (it waits on DNS)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mailctl.kinds.base import Attribute, KindSpec, Owners
from mailctl.kinds.fields import CLIENT_ID, FLAG, SEGMENT, TEXT, required
from mailctl.resources import (
    DEFAULT_DOMAIN,
    Kind,
    Observed,
    Resource,
    domain_address,
    pod_address,
)

FLAGS = ("feedback_enabled", "inbound_enabled", "subdomains_enabled", "tracking_enabled")
_FLAG_DESCRIPTIONS = {
    "feedback_enabled": "Receive bounce and complaint feedback.",
    "inbound_enabled": "Receive mail on this domain (needs the apex MX record).",
    "subdomains_enabled": "Allow inboxes on any subdomain (needs a wildcard MX record).",
    "tracking_enabled": "Open tracking (needs a link.<domain> CNAME).",
}


def _read(rows: list[dict[str, Any]], owners: Owners) -> Iterator[Resource]:
    for row in rows:
        pod = owners.pods.get(row.get("pod_id") or "")
        if row.get("pod_id") and pod is None:
            continue  # a pod the pods listing did not show (created since: another shard; the lock pod)
        yield Resource(
            Kind.DOMAIN,
            domain_address(row["domain"], pod=pod),
            DOMAIN_SPEC.row_attrs(row),
            parent=pod_address(pod) if pod else None,
            remote_id=row["domain_id"],
            observed=Observed(client_id=row.get("client_id")),
        )


def _refuse(name: str) -> str | None:
    if name.lower() == DEFAULT_DOMAIN:
        return f"{DEFAULT_DOMAIN} is AgentMail's shared domain: inboxes may use it without declaring it"
    return None


DOMAIN_SPEC = KindSpec(
    kind=Kind.DOMAIN,
    fixed_name="a domain is its name",
    verified=True,
    section="domains",
    parents=frozenset({None, Kind.POD}),
    attributes=tuple(
        Attribute(flag, api_type=FLAG, schema={"type": "boolean"}, description=_FLAG_DESCRIPTIONS[flag])
        for flag in FLAGS
    ),
    route="/domains",
    list_key="domains",
    remote_id_field="domain_id",
    row_fields={"domain_id": required(TEXT), "domain": required(SEGMENT), "pod_id": TEXT, "client_id": CLIENT_ID},
    lowercase=True,
    unique_name=True,
    identity=lambda domain: {"domain": domain.name},
    read_rows=_read,
    refuse=_refuse,
)
