"""API keys (spec §7.4): bearer keys at org, pod and inbox scope; the secret is shown once.
A ``public_key`` in a create body registers a public-key credential instead (``public_keys.py``).

Scope comes from the route. A key can never create or widen a key beyond itself (§3.2):
flags it does not hold -> 403 ``permission_escalation``; an unrestricted child, clearing
permissions or editing an unrestricted key -> 403 ``unrestricted_key_required``; outliving the
creator -> 403 ``permission_escalation``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from mailctl import limits
from mailctl.sandbox.backend import public_keys
from mailctl.sandbox.backend.core import (
    API_KEY,
    INBOX,
    OPT_IN_PERMISSIONS,
    POD,
    Caller,
    Ctx,
    Reply,
    Row,
    Tx,
    bad_request,
    delete_cascading,
    forbidden,
    load_inbox,
    load_pod,
    new_id,
    new_secret,
    no_content,
    not_found,
    now,
    ok,
    on_delete,
    paginate,
    parse_time,
    pod_visible,
    require_scope,
    scope_filters,
    secret_hash,
)

BOOTSTRAP_KEY_NAME = "sandbox bootstrap key"
PERMISSION_FLAGS = frozenset(
    [
        f"{family}_{action}"
        for family in ("inbox", "domain", "webhook", "api_key", "pod", "file")
        for action in ("read", "create", "update", "delete")
    ]
    + [f"message_{a}" for a in ("read", "send", "reply", "update", "delete")]
    + [f"label_{label}_read" for label in ("spam", "blocked", "unauthenticated", "trash")]
    + [f"draft_{a}" for a in ("read", "create", "update", "delete", "send")]
    + [
        "list_entry_read",
        "list_entry_create",
        "list_entry_delete",
        "metrics_read",
        "calendar_read",
        "calendar_update",
        "app_connect",
        "app_share_owner",
        "account_update",
        "agent_armor_release",
    ]
    + [f"calendar_event_{a}" for a in ("read", "create", "update", "delete")]
)
_KEY_ACTION = "manage API keys"


def display_prefix(secret: str) -> str:
    """The displayable leading part of a secret; never the whole of a short one."""
    return secret[:12] if len(secret) >= 24 else secret[: max(1, min(8, len(secret) // 3))]


def insert_key(
    tx: Tx,
    org: str,
    secret: str,
    *,
    name: str | None,
    pod: str | None = None,
    inbox: str | None = None,
    permissions: dict[str, bool] | None = None,
    expires_at: str | None = None,
    bootstrap: bool = False,
) -> Row:
    key_id, stamp = new_id(), now()
    prefix = display_prefix(secret)
    # §11 Q16: a key created without a name is named after its prefix
    body: dict[str, Any] = {"prefix": prefix, "name": name if name is not None else prefix, "updated_at": stamp}
    if permissions is not None:
        body["permissions"] = permissions
    if expires_at is not None:
        body["expires_at"] = expires_at
    if bootstrap:  # survives POST /_sandbox/reset (never rendered)
        body["bootstrap"] = True
    return tx.insert(
        API_KEY, key_id, org=org, pod=pod, inbox=inbox, body=body, created_at=stamp, ref=secret_hash(secret)
    )


def ensure_bootstrap_key(tx: Tx, org: str, secret: str) -> Row:
    """The bootstrap key of ``org`` with this secret, made if new. A secret the database already
    holds for another key (one made through the API, maybe pod-scoped or restricted, or another
    organisation's) is refused: taking that key for the bootstrap key would serve the control API
    with it, and a reset would keep it (a pod key whose pod it deletes). ValueError, never naming
    the secret."""
    existing = tx.find_one(API_KEY, ref=secret_hash(secret))
    if existing is None:
        return insert_key(tx, org, secret, name=BOOTSTRAP_KEY_NAME, bootstrap=True)
    if existing.org == org and existing.body.get("bootstrap"):
        return existing
    if existing.org != org:
        what = "a key of another organisation"
    else:
        scope = "an inbox" if existing.inbox else "a pod" if existing.pod else "the organisation"
        what = f"the key {existing.body.get('name')!r} ({existing.id}) of {scope}, made through the API"
    raise ValueError(f"an --api-key given is already the secret of {what}: give the sandbox a secret of its own")


def render(row: Row) -> dict[str, Any]:
    if row.body.get("type") == public_keys.PUBLIC_KEY:
        return public_keys.render(row)
    out: dict[str, Any] = {
        "type": "bearer",
        "api_key_id": row.id,
        "prefix": row.body["prefix"],
        "name": row.body["name"],
    }
    if row.pod:  # §11 Q15: inbox keys carry their inbox's pod too
        out["pod_id"] = row.pod
    if row.inbox:
        out["inbox_id"] = row.inbox
    for name in ("used_at", "permissions"):
        if name in row.body:
            out[name] = row.body[name]
    out["created_at"] = row.created_at
    out["updated_at"] = row.body["updated_at"]
    if "expires_at" in row.body:
        out["expires_at"] = row.body["expires_at"]
    return out


def _render_created(row: Row, secret: str) -> dict[str, Any]:
    out = {k: v for k, v in render(row).items() if k not in ("type", "updated_at", "used_at")}
    return {"api_key_id": row.id, "api_key": secret, **out}


# -- rules -----------------------------------------------------------------------------------


def _permissions(ctx: Ctx) -> dict[str, bool] | None:
    value = ctx.body.raw("permissions")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("'permissions' must be an object of flag: boolean", "permissions")
    for flag, granted in value.items():
        if flag not in PERMISSION_FLAGS:
            raise bad_request(f"Unknown permission '{flag}'", f"permissions.{flag}")
        if granted is not None and not isinstance(granted, bool):
            raise bad_request(f"permissions.{flag} must be a boolean", f"permissions.{flag}")
    return {flag: granted for flag, granted in value.items() if granted is not None}


def check_grant(caller: Caller, permissions: dict[str, bool] | None) -> None:
    """The caller may only hand out what it holds itself (spec §3.2)."""
    if permissions is None:
        if not caller.unrestricted:
            raise forbidden(
                "unrestricted_key_required",
                "Only an unrestricted key can create or make an unrestricted key",
                fix="Send an explicit permissions object within your own permissions.",
            )
        return
    for flag, granted in permissions.items():
        if granted and not caller.holds(flag):
            raise forbidden(
                "permission_escalation",
                f"Cannot grant '{flag}': the calling key does not hold it",
                fix="Grant only permissions your key holds.",
            )


def _expiry(ctx: Ctx) -> str | None:
    raw = ctx.body.string("expires_at")
    parent = ctx.caller.expires_at
    if raw is None:
        return parent  # spec §7.4: inherits the caller's expiry
    expires = parse_time(raw, "expires_at")
    if expires <= datetime.now(UTC):
        raise bad_request("'expires_at' must be in the future", "expires_at")
    if parent is not None and expires > parse_time(parent, "expires_at"):
        raise forbidden(
            "permission_escalation",
            "A key cannot outlive the key that creates it",
            fix=f"Use an expires_at no later than {parent}.",
        )
    return expires.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _held_permissions(caller: Caller) -> dict[str, bool]:
    """The caller's rights as explicit flags (a public-key credential's default permissions)."""
    if caller.permissions is not None:
        return dict(caller.permissions)
    return {flag: True for flag in sorted(PERMISSION_FLAGS - OPT_IN_PERMISSIONS) if caller.holds(flag)}


def _register_public_key(ctx: Ctx, pod: str | None, inbox: str | None) -> Reply:
    name = ctx.body.string("name", limit=limits.API_KEY_NAME)
    permissions = _permissions(ctx)
    if permissions is not None:
        check_grant(ctx.caller, permissions)
    row = public_keys.register(
        ctx, pod, inbox, permissions if permissions is not None else _held_permissions(ctx.caller), name, _expiry(ctx)
    )
    return ok(public_keys.render(row))


def _create(ctx: Ctx, pod: str | None, inbox: str | None) -> Reply:
    ctx.caller.require("api_key_create")
    if ctx.body.has("public_key"):
        return _register_public_key(ctx, pod, inbox)
    name = ctx.body.string("name", limit=limits.API_KEY_NAME)
    permissions = _permissions(ctx)
    check_grant(ctx.caller, permissions)
    expires_at = _expiry(ctx)
    secret = new_secret()
    row = insert_key(
        ctx.tx, ctx.org, secret, name=name, pod=pod, inbox=inbox, permissions=permissions, expires_at=expires_at
    )
    return ok(_render_created(row, secret))


def _update(ctx: Ctx, row: Row) -> Reply:
    ctx.caller.require("api_key_update")
    body = ctx.body
    if not body.has("name") and not body.has("permissions"):
        raise bad_request("Send at least one of name, permissions")
    body.reject_nulls("name")  # §11 Q18 (permissions: null means unrestricted, §11 Q21)
    name = body.string("name", limit=limits.API_KEY_NAME)
    if body.has("permissions"):
        permissions = _permissions(ctx)
        if permissions is None and row.body.get("type") == public_keys.PUBLIC_KEY:
            raise bad_request("A public-key credential always has explicit permissions", "permissions")
        if "permissions" not in row.body and not ctx.caller.unrestricted:
            raise forbidden(
                "unrestricted_key_required", "Only an unrestricted key can change an unrestricted key's permissions"
            )
        check_grant(ctx.caller, permissions)
        row.body.pop("permissions", None)  # §11 Q21: replace, never merge
        if permissions is not None:
            row.body["permissions"] = permissions
    if name is not None:
        row.body["name"] = name
    row.body["updated_at"] = now()
    ctx.tx.update(row)
    return ok(render(row))


def _load(ctx: Ctx, *, pod: str | None = None, inbox: str | None = None, exact: bool = False) -> Row:
    row = ctx.tx.get(API_KEY, ctx.params["api_key_id"])
    if row is None or row.org != ctx.org or not pod_visible(ctx.caller, row.pod):
        raise not_found("API key")
    if exact and (row.pod, row.inbox) != (pod, inbox):
        raise not_found("API key")
    return row


# -- org routes ------------------------------------------------------------------------------


def list_keys(ctx: Ctx) -> Reply:
    require_scope(ctx, "organization", "pod", action=_KEY_ACTION)  # §11 Q12
    ctx.caller.require("api_key_read")
    kind = ctx.query.string("type")
    if kind not in (None, "bearer", "public_key"):
        raise bad_request("'type' must be bearer or public_key", "type")
    visible = None if kind is None else (lambda row: row.body.get("type", "bearer") == kind)
    return ok(
        paginate(
            ctx,
            API_KEY,
            "api_keys",
            render,
            org=ctx.org,
            visible=visible,
            include_limit=False,
            variant=kind or "",
            **scope_filters(ctx.caller),
        )
    )


def create_key(ctx: Ctx) -> Reply:
    require_scope(ctx, "organization", action="create org-level API keys")  # §11 Q12
    return _create(ctx, None, None)


def get_key(ctx: Ctx) -> Reply:
    require_scope(ctx, "organization", "pod", action=_KEY_ACTION)
    ctx.caller.require("api_key_read")
    return ok(render(_load(ctx)))


def update_key(ctx: Ctx) -> Reply:
    require_scope(ctx, "organization", "pod", action=_KEY_ACTION)
    return _update(ctx, _load(ctx))


def delete_key(ctx: Ctx) -> Reply:
    require_scope(ctx, "organization", "pod", action=_KEY_ACTION)
    ctx.caller.require("api_key_delete")
    delete_cascading(ctx.tx, _load(ctx))
    return no_content()


# -- pod routes ------------------------------------------------------------------------------


def list_pod_keys(ctx: Ctx) -> Reply:
    pod = load_pod(ctx, ctx.params["pod_id"])
    ctx.caller.require("api_key_read")
    return ok(
        paginate(
            ctx,
            API_KEY,
            "api_keys",
            render,
            org=ctx.org,
            pod=pod.id,
            inbox=None,
            allow_ascending=False,
            include_limit=False,
        )
    )


def create_pod_key(ctx: Ctx) -> Reply:
    pod = load_pod(ctx, ctx.params["pod_id"])
    return _create(ctx, pod.id, None)


def update_pod_key(ctx: Ctx) -> Reply:
    pod = load_pod(ctx, ctx.params["pod_id"])
    return _update(ctx, _load(ctx, pod=pod.id, exact=True))


def delete_pod_key(ctx: Ctx) -> Reply:
    pod = load_pod(ctx, ctx.params["pod_id"])
    ctx.caller.require("api_key_delete")
    delete_cascading(ctx.tx, _load(ctx, pod=pod.id, exact=True))
    return no_content()


# -- inbox routes ----------------------------------------------------------------------------


def _inbox(ctx: Ctx) -> Row:
    require_scope(ctx, "organization", "pod", action=_KEY_ACTION)  # §11 Q12
    return load_inbox(ctx, ctx.params["inbox_id"])


def list_inbox_keys(ctx: Ctx) -> Reply:
    inbox = _inbox(ctx)
    ctx.caller.require("api_key_read")
    return ok(
        paginate(
            ctx, API_KEY, "api_keys", render, org=ctx.org, inbox=inbox.id, allow_ascending=False, include_limit=False
        )
    )


def create_inbox_key(ctx: Ctx) -> Reply:
    inbox = _inbox(ctx)
    return _create(ctx, inbox.pod, inbox.id)


def update_inbox_key(ctx: Ctx) -> Reply:
    inbox = _inbox(ctx)
    return _update(ctx, _load(ctx, pod=inbox.pod, inbox=inbox.id, exact=True))


def delete_inbox_key(ctx: Ctx) -> Reply:
    inbox = _inbox(ctx)
    ctx.caller.require("api_key_delete")
    delete_cascading(ctx.tx, _load(ctx, pod=inbox.pod, inbox=inbox.id, exact=True))
    return no_content()


# -- cascades (§11 Q11, Q13) -------------------------------------------------------------------


@on_delete(INBOX)
def _drop_inbox_keys(tx: Tx, inbox: Row) -> None:
    tx.delete_where(API_KEY, inbox=inbox.id)


@on_delete(POD)
def _drop_pod_keys(tx: Tx, pod: Row) -> None:
    tx.delete_where(API_KEY, pod=pod.id)
