"""The rules every resource shares: caller identity and scope, permissions, idempotent creates,
cascades, timestamps, and the handler contract (``Ctx`` in, ``Reply`` out).

Resource modules import what they need from here (errors, ``Body``/``Query`` and ``paginate`` are
re-exported so one import line is enough). Every §11 open-question choice that is not specific
to one resource lives in this file, marked ``# §11 Qn``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from mailctl.sandbox.backend.errors import (
    SandboxError,
    bad_request,
    conflict,
    forbidden,
    missing_permission,
    not_found,
    scope_denies,
    scope_forbidden,
    scoped,
    unauthorized,
    unprocessable,
)
from mailctl.sandbox.backend.pagination import paginate, paginate_items
from mailctl.sandbox.backend.validate import Body, Query
from mailctl.sandbox.store import Row, Tx

__all__ = [
    "SandboxError",
    "bad_request",
    "conflict",
    "forbidden",
    "missing_permission",
    "not_found",
    "scope_denies",
    "scope_forbidden",
    "scoped",
    "unauthorized",
    "unprocessable",
    "paginate",
    "paginate_items",
    "Body",
    "Query",
    "Row",
    "Tx",
    "Caller",
    "Ctx",
    "Reply",
    "Settings",
    "ok",
    "no_content",
    "now",
    "parse_time",
    "new_id",
    "on_delete",
    "delete_cascading",
    "replay_client_id",
    "load_pod",
    "load_inbox",
    "pod_visible",
    "inbox_visible",
    "require_scope",
    "require_control",
    "secret_hash",
    "new_secret",
    "scope_filters",
]

# Kinds stored by this package (S2's modules add "webhook", "list_entry", "message", ...).
ORG, POD, INBOX, DOMAIN, API_KEY = "org", "pod", "inbox", "domain", "api_key"

# ---------------------------------------------------------------------------------------------
# Settings: the knobs (constructor args of create_app, `serve` flags, PATCH /_sandbox/config)


@dataclass
class Settings:
    page_size: int = 50  # §11 Q6: default page size
    latency_ms: int = 0
    latency_jitter_ms: int = 0
    rate_limit: float | None = None  # requests per second; None = off (§11 Q23)
    rate_limit_scope: Literal["org", "key"] = "org"  # §2.5 [docs]: one budget per organisation
    fault_rate: float = 0.0
    fault_mode: Literal["before", "after", "both"] = "both"
    seed: int | None = None
    domain_verification: Literal["auto", "manual"] = "auto"  # §11 Q8
    open_tracking: Literal["enabled", "disabled"] = "enabled"  # disabled: tracking_enabled -> 403
    webhook_deliveries: Literal["enabled", "disabled"] = "enabled"  # disabled: events are not POSTed
    webhook_retry_ms: int = 1000  # the first retry's delay; each later one doubles (issue 20)


# ---------------------------------------------------------------------------------------------
# Time and ids


def now() -> str:
    """UTC, millisecond precision, ``Z`` suffix (spec §1.4)."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: str, field_name: str) -> datetime:
    """An ISO-8601 date-time in UTC (no offset means UTC); 400 if it is not one, or if it falls
    outside years 1-9999 once in UTC (``9999-12-31T23:59:59-23:59``), which was a 500 (issue 17)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except (ValueError, AttributeError):
        raise bad_request(f"'{field_name}' must be an ISO-8601 date-time", field_name) from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise bad_request(f"'{field_name}' is out of range once converted to UTC", field_name) from None


def new_id() -> str:
    return str(uuid.uuid4())


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return "am_us_" + secrets.token_hex(24)


# ---------------------------------------------------------------------------------------------
# Caller identity and permissions (spec §3)

OPT_IN_PERMISSIONS = frozenset({"agent_armor_release", "app_connect"})

# §11 Q12 / §3.1: rights a scope can never have, whatever its permissions object says.
SCOPE_DENIED: dict[str, frozenset[str]] = {
    "organization": frozenset(),
    "pod": frozenset({"pod_create", "pod_delete"}),
    "inbox": frozenset(
        {
            "inbox_create",
            "inbox_delete",
            "pod_read",
            "pod_create",
            "pod_delete",
            "domain_read",
            "domain_create",
            "domain_update",
            "domain_delete",
            "api_key_read",
            "api_key_create",
            "api_key_update",
            "api_key_delete",
        }
    ),
}


@dataclass(frozen=True)
class Caller:
    """Who is calling: the authenticated key, its scope and its permissions."""

    org_id: str
    api_key_id: str | None
    pod_id: str | None = None
    inbox_id: str | None = None
    permissions: dict[str, bool] | None = None
    expires_at: str | None = None

    @property
    def scope(self) -> Literal["organization", "pod", "inbox"]:
        return "inbox" if self.inbox_id else "pod" if self.pod_id else "organization"

    @property
    def unrestricted(self) -> bool:
        return self.permissions is None

    def holds(self, permission: str) -> bool:
        """Effective right = scope ∩ permissions (absent permissions grant all but opt-in flags)."""
        if permission in SCOPE_DENIED[self.scope]:
            return False
        if self.permissions is None:
            return permission not in OPT_IN_PERMISSIONS
        return self.permissions.get(permission) is True

    def require(self, permission: str) -> None:
        if permission in SCOPE_DENIED[self.scope]:
            able = [scope for scope in reversed(SCOPE_DENIED) if permission not in SCOPE_DENIED[scope]]
            raise scope_denies(self.scope, permission, able)  # narrowest able scope first
        if not self.holds(permission):
            raise missing_permission(permission)


def require_scope(ctx: Ctx, *allowed: str, action: str) -> None:
    """403 forbidden when the caller's scope can never do ``action`` (§11 Q12)."""
    if ctx.caller.scope not in allowed:
        raise scope_forbidden(f"{scoped(ctx.caller.scope)} cannot {action}")


def require_control(ctx: Ctx) -> None:
    """The ``/_sandbox`` control API needs an unrestricted organisation-level key: a key
    restricted to, say, ``inbox_read`` must not be able to wipe its organisation (issue 10)."""
    require_scope(ctx, "organization", action="use the sandbox control API")
    if not ctx.caller.unrestricted:
        raise scope_forbidden("the sandbox control API needs an organization-level key with full permissions")


# ---------------------------------------------------------------------------------------------
# The handler contract


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes/str for non-JSON content types
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def ok(body: Any) -> Reply:
    return Reply(200, body)


def no_content() -> Reply:
    return Reply(204, None)


@dataclass
class Ctx:
    """Everything a handler gets: the open transaction, the caller, and the parsed request."""

    tx: Tx
    caller: Caller
    params: dict[str, str]
    query: Query
    body: Body
    settings: Settings
    route: str  # the matched route pattern, e.g. "/v0/pods/{pod_id}"
    method: str = "GET"
    sandbox: Any = None  # the SandboxApp (only the /_sandbox control handlers use it)
    idempotency_key: str | None = None  # the Idempotency-Key header ("" when sent empty)

    @property
    def org(self) -> str:
        return self.caller.org_id


Handler = Callable[[Ctx], Reply]


# ---------------------------------------------------------------------------------------------
# Cascades: modules register what must go when a parent row is deleted


_CASCADES: dict[str, list[Callable[[Tx, Row], None]]] = {}


def on_delete(kind: str) -> Callable[[Callable[[Tx, Row], None]], Callable[[Tx, Row], None]]:
    """Register ``fn(tx, row)`` to run (in the same transaction) before a ``kind`` row is deleted."""

    def register(fn: Callable[[Tx, Row], None]) -> Callable[[Tx, Row], None]:
        _CASCADES.setdefault(kind, []).append(fn)
        return fn

    return register


def delete_cascading(tx: Tx, row: Row) -> None:
    for fn in _CASCADES.get(row.kind, []):
        fn(tx, row)
    tx.delete(row.kind, row.id)


# ---------------------------------------------------------------------------------------------
# Idempotent creates (spec §5)


def replay_client_id(ctx: Ctx, kind: str, client_id: str | None, visible: Callable[[Row], bool]) -> Row | None:
    """The resource already created with this ``client_id``, or None to go on and create.

    §11 Q5: unique per (org, kind); a deleted resource frees its client_id (the row is gone).
    §11 Q4: a replay returns the original unchanged, whatever the new body says; if the original
    is outside the caller's scope or the route's pod, 403 already_exists (never a leak, never 409).
    """
    if client_id is None:
        return None
    row = ctx.tx.find_one(kind, org=ctx.org, client_id=client_id)
    if row is not None and not visible(row):
        raise forbidden(
            "already_exists",
            f"client_id '{client_id}' is already used by a {kind} outside this scope",
            fix="Use a different client_id.",
        )
    return row


# ---------------------------------------------------------------------------------------------
# Scope: what a caller may see (outside scope = 404, spec §3.1)


def pod_visible(caller: Caller, pod_id: str | None) -> bool:
    return caller.pod_id is None or caller.pod_id == pod_id


def inbox_visible(caller: Caller, row: Row) -> bool:
    if caller.inbox_id is not None:
        return row.id == caller.inbox_id
    return pod_visible(caller, row.pod)


def scope_filters(caller: Caller) -> dict[str, Any]:
    """Store filters restricting a listing to the caller's pod / inbox (pods carry pod = own id)."""
    filters = {"pod": caller.pod_id} if caller.pod_id else {}
    if caller.inbox_id:
        filters["inbox"] = caller.inbox_id
    return filters


def load_pod(ctx: Ctx, pod_id: str) -> Row:
    """The pod of a ``/v0/pods/{pod_id}/...`` route: inbox keys get 403, others 404 outside scope."""
    if ctx.caller.scope == "inbox":
        raise scope_forbidden("an inbox-scoped key cannot use /v0/pods routes")
    row = ctx.tx.get(POD, pod_id)
    if row is None or row.org != ctx.org or not pod_visible(ctx.caller, row.id):
        raise not_found("Pod")
    return row


def load_inbox(ctx: Ctx, inbox_id: str, pod: Row | None = None) -> Row:
    """An inbox by id (case-insensitive), within the caller's scope and, if given, the route's pod."""
    row = ctx.tx.get(INBOX, inbox_id.lower())
    if row is None or row.org != ctx.org or not inbox_visible(ctx.caller, row):
        raise not_found("Inbox")
    if pod is not None and row.pod != pod.id:
        raise not_found("Inbox")
    return row
