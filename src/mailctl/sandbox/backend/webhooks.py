"""Webhooks (spec §7.5) at organization, pod and inbox scope, including ``/headers``.

Stored as ``webhook`` rows: ``pod``/``inbox`` columns are the *owner* (the pod a pod webhook was
created in, or an inbox webhook's inbox and its pod; both NULL for an org webhook). The body keeps
``url``, ``event_types``, ``enabled``, ``secret``, the write-only ``headers`` and the subscription
lists ``pod_ids`` / ``inbox_ids``, which are present only on a *scoped* webhook: one that was
created with subscriptions and so must always keep at least one.
"""

from __future__ import annotations

import base64
import secrets
from typing import Any

from mailctl import limits
from mailctl.sandbox.backend.core import (
    INBOX,
    POD,
    Caller,
    Ctx,
    Reply,
    Row,
    SandboxError,
    Tx,
    bad_request,
    load_inbox,
    load_pod,
    no_content,
    not_found,
    now,
    ok,
    on_delete,
    paginate,
    replay_client_id,
    scope_filters,
    scoped,
)
from mailctl.sandbox.backend.webhook_rules import (
    MAX_POD_IDS,
    apply_id_changes,
    check_event_types,
    check_headers,
    check_url,
    merge_headers,
    require_label_permissions,
)

WEBHOOK = "webhook"
_SUBSCRIPTIONS = ("pod_ids", "inbox_ids")


def new_webhook_id() -> str:
    return "ep_" + secrets.token_hex(13)


def new_signing_secret() -> str:
    """Svix-style signing secret: ``whsec_`` + base64 of 24 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def render(row: Row) -> dict[str, Any]:
    body = row.body
    out: dict[str, Any] = {"webhook_id": row.id, "url": body["url"], "event_types": list(body["event_types"])}
    for key in _SUBSCRIPTIONS:
        if key in body:
            out[key] = list(body[key])
    if row.pod:
        out["pod_id"] = row.pod
    if row.inbox:
        out["inbox_id"] = row.inbox
    out["secret"] = body["secret"]  # unlike API-key secrets, returned on every read (spec §7.5)
    out["enabled"] = body["enabled"]
    if row.client_id:
        out["client_id"] = row.client_id
    out["created_at"] = row.created_at
    out["updated_at"] = body["updated_at"]
    return out


# ---------------------------------------------------------------------------------------------
# Scope: which webhooks a route and a caller address


def owner_scope(row: Row) -> str:
    return "inbox" if row.inbox else "pod" if row.pod else "organization"


def caller_sees(caller: Caller, row: Row) -> bool:
    """Org keys see every webhook; pod keys their pod's; inbox keys their inbox's (spec §3.1)."""
    if caller.inbox_id is not None:
        return row.inbox == caller.inbox_id
    return caller.pod_id is None or row.pod == caller.pod_id


def _route_owner(ctx: Ctx) -> tuple[Row | None, Row | None]:
    """(pod, inbox) named by the route, each loaded with the 403/404 scope rules."""
    if "inbox_id" in ctx.params:
        inbox = load_inbox(ctx, ctx.params["inbox_id"])
        return None, inbox
    if "pod_id" in ctx.params:
        return load_pod(ctx, ctx.params["pod_id"]), None
    return None, None


def _route_filters(ctx: Ctx, pod: Row | None, inbox: Row | None) -> dict[str, Any]:
    if inbox is not None:
        return {"inbox": inbox.id}
    if pod is not None:
        return {"pod": pod.id}
    return scope_filters(ctx.caller)


def _load(ctx: Ctx) -> Row:
    pod, inbox = _route_owner(ctx)
    row = ctx.tx.get(WEBHOOK, ctx.params["webhook_id"])
    if row is None or row.org != ctx.org or not caller_sees(ctx.caller, row):
        raise not_found("Webhook")
    if any(getattr(row, column) != value for column, value in _route_filters(ctx, pod, inbox).items()):
        raise not_found("Webhook")
    return row


# ---------------------------------------------------------------------------------------------
# Subscriptions


def _check_pod_ids(ctx: Ctx, pod_ids: list[str], field: str) -> list[str]:
    for i, pod_id in enumerate(pod_ids):
        pod = ctx.tx.get(POD, pod_id)
        if pod is None or pod.org != ctx.org:
            raise bad_request(f"Unknown pod {pod_id!r}", f"{field}[{i}]")
    return pod_ids


def _check_inbox_ids(ctx: Ctx, inbox_ids: list[str], owner_pod: str | None, field: str) -> list[str]:
    out = [inbox_id.lower() for inbox_id in inbox_ids]
    for i, inbox_id in enumerate(out):
        inbox = ctx.tx.get(INBOX, inbox_id)
        if inbox is None or inbox.org != ctx.org or (owner_pod is not None and inbox.pod != owner_pod):
            where = f" in pod {owner_pod!r}" if owner_pod else ""
            raise bad_request(f"Unknown inbox {inbox_ids[i]!r}{where}", f"{field}[{i}]")
    return out


def _reject_fields(ctx: Ctx, names: tuple[str, ...], scope: str) -> None:
    for name in names:
        if ctx.body.raw(name) is not None:
            raise bad_request(f"'{name}' is not accepted for {scoped(scope, noun='webhook')}", name)


# ---------------------------------------------------------------------------------------------
# Handlers


def list_webhooks(ctx: Ctx) -> Reply:
    ctx.caller.require("webhook_read")
    pod, inbox = _route_owner(ctx)
    return ok(paginate(ctx, WEBHOOK, "webhooks", render, org=ctx.org, **_route_filters(ctx, pod, inbox)))


def get_webhook(ctx: Ctx) -> Reply:
    ctx.caller.require("webhook_read")
    return ok(render(_load(ctx)))


def create_webhook(ctx: Ctx) -> Reply:
    ctx.caller.require("webhook_create")
    pod, inbox = _route_owner(ctx)
    caller = ctx.caller
    # §11 Q12: an org route used with a scoped key creates in the key's own pod or inbox
    owner_inbox = inbox.id if inbox else caller.inbox_id
    owner_pod = inbox.pod if inbox else pod.id if pod else caller.pod_id
    if owner_inbox and not inbox:
        owner_pod = load_inbox(ctx, owner_inbox).pod
    url = check_url(ctx.body.string("url", required=True, limit=limits.WEBHOOK_URL) or "")
    event_types = check_event_types(ctx.body.strings("event_types", required=True), required=True)
    headers = check_headers(ctx.body.mapping("headers"), webhook=True)
    client_id = ctx.body.client_id()
    body: dict[str, Any] = {"url": url, "event_types": event_types}
    if owner_inbox:
        _reject_fields(ctx, _SUBSCRIPTIONS, "inbox")
    else:
        if owner_pod:
            _reject_fields(ctx, ("pod_ids",), "pod")
        pod_ids = ctx.body.strings("pod_ids")
        inbox_ids = ctx.body.strings("inbox_ids")
        if pod_ids or inbox_ids:  # a scoped webhook: it keeps its lists (possibly one empty)
            if len(pod_ids or []) > MAX_POD_IDS:
                raise bad_request(f"'pod_ids' may list at most {MAX_POD_IDS} pods", "pod_ids")
            if not owner_pod:
                body["pod_ids"] = list(dict.fromkeys(_check_pod_ids(ctx, pod_ids or [], "pod_ids")))
            body["inbox_ids"] = list(dict.fromkeys(_check_inbox_ids(ctx, inbox_ids or [], owner_pod, "inbox_ids")))
    existing = replay_client_id(
        ctx,
        WEBHOOK,
        client_id,
        visible=lambda row: caller_sees(caller, row) and row.pod == owner_pod and row.inbox == owner_inbox,
    )
    if existing is not None:  # spec §5: a replay returns the original, unchanged
        return ok(render(existing))
    require_label_permissions(caller, event_types)
    stamp = now()
    body.update({"secret": new_signing_secret(), "enabled": True, "headers": headers or {}, "updated_at": stamp})
    row = ctx.tx.insert(
        WEBHOOK,
        new_webhook_id(),
        org=ctx.org,
        pod=owner_pod,
        inbox=owner_inbox,
        body=body,
        created_at=stamp,
        client_id=client_id,
    )
    return ok(render(row))


def update_webhook(ctx: Ctx) -> Reply:
    ctx.caller.require("webhook_update")
    row = _load(ctx)
    scope = owner_scope(row)
    names = ("event_types", "enabled", "add_pod_ids", "remove_pod_ids", "add_inbox_ids", "remove_inbox_ids")
    ctx.body.reject_nulls(*names)  # §11 Q18
    if scope != "organization":
        _reject_fields(ctx, ("add_pod_ids", "remove_pod_ids"), scope)
    if scope == "inbox":
        _reject_fields(ctx, ("add_inbox_ids", "remove_inbox_ids"), scope)
    before = dict(row.body)
    event_types = check_event_types(ctx.body.strings("event_types"), required=False)
    if event_types is not None:  # replaces the whole list; omitted or [] leaves it unchanged
        row.body["event_types"] = event_types
    enabled = ctx.body.boolean("enabled")
    if enabled is not None:
        row.body["enabled"] = enabled
    _update_subscriptions(ctx, row)
    if event_types is not None or enabled is True:  # §3.2: checked on update and on re-enable
        require_label_permissions(ctx.caller, row.body["event_types"])
    if row.body != before:
        row.body["updated_at"] = now()
        ctx.tx.update(row)
    return ok(render(row))


def _update_subscriptions(ctx: Ctx, row: Row) -> None:
    add_pods, remove_pods = ctx.body.strings("add_pod_ids"), ctx.body.strings("remove_pod_ids")
    add_inboxes, remove_inboxes = ctx.body.strings("add_inbox_ids"), ctx.body.strings("remove_inbox_ids")
    if add_pods:
        _check_pod_ids(ctx, add_pods, "add_pod_ids")
    if add_inboxes:
        add_inboxes = _check_inbox_ids(ctx, add_inboxes, row.pod, "add_inbox_ids")
    if remove_inboxes:
        remove_inboxes = [i.lower() for i in remove_inboxes]
    pods = apply_id_changes(row.body.get("pod_ids", []), add_pods, remove_pods, "pod_ids")
    inboxes = apply_id_changes(row.body.get("inbox_ids", []), add_inboxes, remove_inboxes, "inbox_ids")
    if not any(key in row.body for key in _SUBSCRIPTIONS):
        # Covers its whole scope already: adding only adds to what it receives, so nothing changes
        # (SDK docstring for pod webhooks; applied to org-wide webhooks too).
        return
    if len(pods) > MAX_POD_IDS:
        raise bad_request(f"A webhook may subscribe to at most {MAX_POD_IDS} pods", "add_pod_ids")
    # The request's removals must leave one subscription. A webhook that lost its last ones to a
    # cascade (§11 Q11: it keeps its empty lists) is not refused a PATCH that removes nothing.
    removed = [
        field
        for field, key, left in (("remove_pod_ids", "pod_ids", pods), ("remove_inbox_ids", "inbox_ids", inboxes))
        if len(left) < len(row.body.get(key, []))
    ]
    if removed and not pods and not inboxes:
        raise bad_request(
            "A scoped webhook must keep at least one pod or inbox subscription",
            removed[0],
            fix="Delete the webhook instead, or add another subscription first.",
        )
    if "pod_ids" in row.body:
        row.body["pod_ids"] = pods
    row.body["inbox_ids"] = inboxes


def delete_webhook(ctx: Ctx) -> Reply:
    ctx.caller.require("webhook_delete")
    ctx.tx.delete(WEBHOOK, _load(ctx).id)
    return no_content()


def get_headers(ctx: Ctx) -> Reply:
    ctx.caller.require("webhook_read")
    row = _load(ctx)
    return ok({"header_names": sorted(row.body.get("headers", {}), key=str.lower)})  # values are write-only


def update_headers(ctx: Ctx) -> Reply:
    ctx.caller.require("webhook_update")
    row = _load(ctx)
    ctx.body.reject_nulls("headers", "remove_headers")
    headers = check_headers(ctx.body.mapping("headers"), webhook=True)
    remove = ctx.body.strings("remove_headers")
    if not headers and not remove:
        raise bad_request("Provide at least one of 'headers' or 'remove_headers'", "")
    row.body["headers"] = merge_headers(row.body.get("headers", {}), headers, remove)
    row.body["updated_at"] = now()
    ctx.tx.update(row)
    return no_content()


def polling_not_emulated(ctx: Ctx) -> Reply:
    """``/webhooks/polling`` shares the prefix; it is answered here so ``{webhook_id}`` never captures it."""
    raise SandboxError(
        404,
        "not_found",
        "Polling webhooks are not emulated by the sandbox",
        fix="Use a push webhook (POST /v0/webhooks) against the sandbox.",
    )


# ---------------------------------------------------------------------------------------------
# Cascades (§11 Q11, Q13)


def _drop_subscription(tx: Tx, org: str, key: str, value: str) -> None:
    """Remove ``value`` from every webhook's ``key`` list. A scoped webhook left with no
    subscription keeps its empty list and so receives nothing (it never widens to the org)."""
    for row in tx.find(WEBHOOK, org=org):
        if value in row.body.get(key, []):
            row.body[key] = [v for v in row.body[key] if v != value]
            row.body["updated_at"] = now()
            tx.update(row)


@on_delete(INBOX)
def _inbox_deleted(tx: Tx, inbox: Row) -> None:
    tx.delete_where(WEBHOOK, inbox=inbox.id)
    _drop_subscription(tx, inbox.org, "inbox_ids", inbox.id)


@on_delete(POD)
def _pod_deleted(tx: Tx, pod: Row) -> None:
    tx.delete_where(WEBHOOK, pod=pod.id)
    _drop_subscription(tx, pod.org, "pod_ids", pod.id)
