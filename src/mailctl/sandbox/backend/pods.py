"""Pods (spec §7.1): list, create (idempotent by client_id), get, delete. No update route.

This module is the worked example of a resource: render a row, check scope and permission,
validate the body, use ``replay_client_id`` for idempotency and ``paginate`` for lists.
"""

from __future__ import annotations

from typing import Any

from mailctl import limits
from mailctl.sandbox.backend.core import (
    DOMAIN,
    INBOX,
    POD,
    Ctx,
    Reply,
    Row,
    Tx,
    delete_cascading,
    forbidden,
    load_pod,
    new_id,
    no_content,
    now,
    ok,
    paginate,
    replay_client_id,
    require_scope,
    scope_filters,
)

DEFAULT_POD_REF = "default"  # ``ref`` marks the seeded Default Pod
DEFAULT_POD_NAME = "Default Pod"


def render(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"pod_id": row.id, "name": row.body["name"]}
    if row.client_id:
        out["client_id"] = row.client_id
    out["created_at"] = row.created_at
    out["updated_at"] = row.body["updated_at"]
    return out


def insert_pod(tx: Tx, org: str, name: str | None, client_id: str | None = None, ref: str | None = None) -> Row:
    pod_id, stamp = new_id(), now()
    # §11 Q16: a pod created without a name is named after its id (name is required in responses)
    body = {"name": name if name is not None else pod_id, "updated_at": stamp}
    return tx.insert(POD, pod_id, org=org, pod=pod_id, body=body, created_at=stamp, client_id=client_id, ref=ref)


def list_pods(ctx: Ctx) -> Reply:
    require_scope(ctx, "organization", "pod", action="list pods")
    ctx.caller.require("pod_read")
    return ok(paginate(ctx, POD, "pods", render, org=ctx.org, **scope_filters(ctx.caller)))


def create_pod(ctx: Ctx) -> Reply:
    require_scope(ctx, "organization", action="create pods")  # §11 Q12
    ctx.caller.require("pod_create")
    name = ctx.body.string("name", limit=limits.POD_NAME)
    client_id = ctx.body.client_id()
    existing = replay_client_id(ctx, POD, client_id, visible=lambda row: True)
    if existing is not None:  # §5: replay returns the original, unchanged
        return ok(render(existing))
    return ok(render(insert_pod(ctx.tx, ctx.org, name, client_id)))


def get_pod(ctx: Ctx) -> Reply:
    pod = load_pod(ctx, ctx.params["pod_id"])  # scope (403/404) before permission
    ctx.caller.require("pod_read")
    return ok(render(pod))


def delete_pod(ctx: Ctx) -> Reply:
    require_scope(ctx, "organization", action="delete pods")  # §11 Q12
    ctx.caller.require("pod_delete")
    pod = load_pod(ctx, ctx.params["pod_id"])
    if pod.ref == DEFAULT_POD_REF:  # §11 Q14
        raise forbidden("cannot_delete", "The Default Pod cannot be deleted", fix="Delete other pods instead.")
    inboxes, domains = ctx.tx.count(INBOX, pod=pod.id), ctx.tx.count(DOMAIN, pod=pod.id)
    if inboxes or domains:  # §11 Q1: 403 (not 409, which the SDK retries)
        raise forbidden(
            "cannot_delete",
            f"Pod still has {inboxes} inbox(es) and {domains} domain(s)",
            fix="Delete the pod's inboxes and domains first, then delete the pod.",
        )
    delete_cascading(ctx.tx, pod)  # §11 Q13: pod keys, webhooks and list entries go with it
    return no_content()
