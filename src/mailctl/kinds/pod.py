"""Pods: the tenant boundary. A pod's name in addresses is its client_id, its identity."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mailctl import limits
from mailctl.kinds.base import Attribute, KindSpec, Owners
from mailctl.kinds.fields import CLIENT_ID, SEGMENT, TEXT, required
from mailctl.resources import (
    Kind,
    Observed,
    Resource,
    pod_address,
    pod_client_id,
    split_address,
)


def _read(rows: list[dict[str, Any]], owners: Owners) -> Iterator[Resource]:
    for row in rows:
        yield Resource(
            Kind.POD,
            pod_address(owners.pods[row["pod_id"]]),
            POD_SPEC.row_attrs(row),
            remote_id=row["pod_id"],
            observed=Observed(client_id=row.get("client_id"), pod_id=row["pod_id"]),
        )


POD_SPEC = KindSpec(
    kind=Kind.POD,
    fixed_name="its client_id and name are fixed in the API (a pod has no update)",
    section="pods",
    parents=frozenset({None}),
    attributes=(
        Attribute(  # no PATCH route: a rename replaces
            "name",
            api_type=TEXT,
            mutable=False,
            absent=None,
            schema={"type": "string", "minLength": limits.POD_NAME.min, "maxLength": limits.POD_NAME.max},
            description="The pod's name. Immutable in the API: changing it replaces the pod.",
        ),
    ),
    route="/pods",
    list_key="pods",
    remote_id_field="pod_id",
    # Its address segment: its client_id, else its pod_id.
    row_fields={"pod_id": required(SEGMENT), "client_id": CLIENT_ID},
    client_id=lambda address: pod_client_id(split_address(address)[-1][1]),
    identity=lambda pod: {"name": pod.attrs.get("name", pod.name)},
    read_rows=_read,
    children_when_repeated=True,
    # A pod made without a client_id is addressed by its pod_id: its name says which one it is.
    label=lambda pod: f'"{pod.attrs["name"]}"' if pod.attrs.get("name") and not pod.observed.client_id else None,
)
