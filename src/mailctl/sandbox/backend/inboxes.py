"""Inboxes (spec §7.2): per pod and org-wide, search, create (idempotent), update, delete (cascades)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any

from mailctl import limits
from mailctl.sandbox.backend import domains
from mailctl.sandbox.backend.core import (
    INBOX,
    POD,
    Body,
    Ctx,
    Reply,
    Row,
    bad_request,
    delete_cascading,
    forbidden,
    inbox_visible,
    load_inbox,
    load_pod,
    no_content,
    now,
    ok,
    paginate,
    paginate_items,
    replay_client_id,
    scope_filters,
)
from mailctl.sandbox.backend.pods import DEFAULT_POD_REF

DEFAULT_DOMAIN = "agentmail.to"
USERNAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._+-]{0,62}[a-z0-9])?\Z")
_WORD = re.compile(r"[a-z0-9]+")


def render(row: Row) -> dict[str, Any]:
    out: dict[str, Any] = {"pod_id": row.pod, "inbox_id": row.id, "email": row.id}
    if "display_name" in row.body:
        out["display_name"] = row.body["display_name"]
    if row.body.get("metadata"):
        out["metadata"] = row.body["metadata"]
    if row.client_id:
        out["client_id"] = row.client_id
    if row.body.get("status") == "paused":  # spec §9.2: omitted while active
        out["status"] = "paused"
    out["created_at"] = row.created_at
    out["updated_at"] = row.body["updated_at"]
    return out


def _metadata_value(key: Any, value: Any) -> None:
    if not isinstance(key, str) or not limits.METADATA_KEY.allows(key):
        low, high = limits.METADATA_KEY.min, limits.METADATA_KEY.max
        raise bad_request(f"metadata keys must be {low}-{high} character strings", "metadata")
    if isinstance(value, str) and not limits.METADATA_VALUE.allows(value):
        raise bad_request(f"metadata.{key} is longer than {limits.METADATA_VALUE.max} characters", f"metadata.{key}")
    if value is not None and not isinstance(value, str | int | float | bool):
        raise bad_request(f"metadata.{key} must be a string, number or boolean", f"metadata.{key}")


def merge_metadata(current: dict[str, Any] | None, body: Body) -> dict[str, Any] | None:
    """Spec §7.2: listed keys overwrite, ``"k": null`` removes one, ``"metadata": null`` clears."""
    if not body.has("metadata"):
        return current
    if body.raw("metadata") is None:
        return None
    changes = body.mapping("metadata") or {}
    if not changes:
        raise bad_request("'metadata' must not be empty; send null to clear it", "metadata")
    merged = dict(current or {})
    for key, value in changes.items():
        _metadata_value(key, value)
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > limits.METADATA_ENTRIES:
        raise bad_request(f"metadata may hold at most {limits.METADATA_ENTRIES} keys", "metadata")
    return merged or None


def _status(body: Body) -> str | None:
    status = body.string("status")
    if status is not None and status not in ("active", "paused"):
        raise bad_request("'status' must be active or paused", "status")
    return status


def _home_pod(ctx: Ctx) -> Row:
    """Org-route creates land in the Default Pod, or in the caller's pod for a pod key (§11 Q12)."""
    if ctx.caller.pod_id:
        pod = ctx.tx.get(POD, ctx.caller.pod_id)
    else:
        pod = ctx.tx.find_one(POD, org=ctx.org, ref=DEFAULT_POD_REF)
    assert pod is not None, "a pod key's pod and the Default Pod always exist"
    return pod


def _create(ctx: Ctx, pod: Row, route_pod: Row | None) -> Reply:
    ctx.caller.require("inbox_create")
    body = ctx.body
    client_id = body.client_id()
    existing = replay_client_id(
        ctx,
        INBOX,
        client_id,
        visible=lambda row: inbox_visible(ctx.caller, row) and (route_pod is None or row.pod == route_pod.id),
    )
    if existing is not None:
        return ok(render(existing))
    username = (body.string("username", limit=limits.USERNAME) or "inbox-" + secrets.token_hex(5)).lower()
    if not USERNAME_RE.match(username):
        raise bad_request(
            "'username' may use a-z 0-9 . _ + - and must start and end with a letter or digit", "username"
        )
    domain = (body.string("domain", limit=limits.DOMAIN_NAME) or DEFAULT_DOMAIN).lower()
    if domain != DEFAULT_DOMAIN:
        domains.require_usable_for_inbox(ctx, domain, pod.id)
    display_name = body.string("display_name", limit=limits.DISPLAY_NAME)
    status = _status(body)
    metadata = merge_metadata(None, body) if body.raw("metadata") else None
    email = f"{username}@{domain}"
    if ctx.tx.get(INBOX, email) is not None:  # §11 Q2: 403 IsTakenError, never a retried 409
        raise forbidden(
            "resource_taken",
            f"The address {email} is already taken",
            name="IsTakenError",
            fix="Choose another username.",
        )
    stamp = now()
    row_body: dict[str, Any] = {"username": username, "domain": domain, "updated_at": stamp}
    for name, value in (("display_name", display_name), ("status", status), ("metadata", metadata)):
        if value is not None:
            row_body[name] = value
    row = ctx.tx.insert(
        INBOX, email, org=ctx.org, pod=pod.id, inbox=email, client_id=client_id, body=row_body, created_at=stamp
    )
    return ok(render(row))


def create_inbox(ctx: Ctx) -> Reply:
    return _create(ctx, _home_pod(ctx), None)


def create_pod_inbox(ctx: Ctx) -> Reply:
    pod = load_pod(ctx, ctx.params["pod_id"])
    return _create(ctx, pod, pod)


def list_inboxes(ctx: Ctx) -> Reply:
    ctx.caller.require("inbox_read")
    return ok(paginate(ctx, INBOX, "inboxes", render, org=ctx.org, **scope_filters(ctx.caller)))


def list_pod_inboxes(ctx: Ctx) -> Reply:
    pod = load_pod(ctx, ctx.params["pod_id"])
    ctx.caller.require("inbox_read")
    return ok(paginate(ctx, INBOX, "inboxes", render, org=ctx.org, pod=pod.id))


def _search(ctx: Ctx, rows: list[Row]) -> Reply:
    """Every query word must prefix a word of the address or display name; exact address first."""
    q = ctx.query.string("q")
    if q is None or not 2 <= len(q.strip()) <= 256:
        raise bad_request("'q' is required and must be 2 to 256 characters", "q")
    terms = _WORD.findall(q.lower())
    needle = q.strip().lower()
    hits = []
    for row in rows:
        words = _WORD.findall(f"{row.id} {row.body.get('display_name') or ''}".lower())
        if all(any(w.startswith(t) for w in words) for t in terms) or row.id == needle:
            hits.append(row)
    ranked = sorted(((_rank(r, needle), render(r)) for r in hits), key=lambda hit: hit[0])
    return ok(paginate_items(ctx, ranked, "inboxes", variant=needle))


def _rank(row: Row, needle: str) -> tuple[int, int, int]:
    """Where a hit sits in the results, ascending: the exact address first, then newest first."""
    created = datetime.fromisoformat(row.created_at.replace("Z", "+00:00"))
    return (0 if row.id == needle else 1, -round(created.timestamp() * 1000), -row.seq)


def search_inboxes(ctx: Ctx) -> Reply:
    ctx.caller.require("inbox_read")
    return _search(ctx, ctx.tx.find(INBOX, org=ctx.org, **scope_filters(ctx.caller)))


def search_pod_inboxes(ctx: Ctx) -> Reply:
    pod = load_pod(ctx, ctx.params["pod_id"])
    ctx.caller.require("inbox_read")
    return _search(ctx, ctx.tx.find(INBOX, org=ctx.org, pod=pod.id))


def _route_pod(ctx: Ctx) -> Row | None:
    return load_pod(ctx, ctx.params["pod_id"]) if "pod_id" in ctx.params else None


def get_inbox(ctx: Ctx) -> Reply:
    pod = _route_pod(ctx)
    ctx.caller.require("inbox_read")
    return ok(render(load_inbox(ctx, ctx.params["inbox_id"], pod)))


def update_inbox(ctx: Ctx) -> Reply:
    pod = _route_pod(ctx)
    ctx.caller.require("inbox_update")
    row = load_inbox(ctx, ctx.params["inbox_id"], pod)
    body = ctx.body
    if not any(body.has(name) for name in ("display_name", "status", "metadata")):
        raise bad_request("Send at least one of display_name, status, metadata")
    body.reject_nulls("display_name", "status")  # §11 Q18 (only metadata is nullable)
    display_name, status = body.string("display_name", limit=limits.DISPLAY_NAME), _status(body)
    if display_name is not None:
        row.body["display_name"] = display_name
    if status is not None:
        row.body["status"] = status
    metadata = merge_metadata(row.body.get("metadata"), body)
    row.body.pop("metadata", None)
    if metadata:
        row.body["metadata"] = metadata
    row.body["updated_at"] = now()
    ctx.tx.update(row)
    return ok(render(row))


def delete_inbox(ctx: Ctx) -> Reply:
    pod = _route_pod(ctx)
    ctx.caller.require("inbox_delete")
    row = load_inbox(ctx, ctx.params["inbox_id"], pod)
    delete_cascading(ctx.tx, row)  # messages/threads/drafts (S2), keys, webhooks, lists (§11 Q11)
    return no_content()
