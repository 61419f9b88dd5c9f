"""Allow and block lists (spec §7.6): six lists per scope (direction x type), org / pod / inbox.

Stored as ``list_entry`` rows with id ``<org id>|<scope>|<direction>|<type>|<entry>`` and
``ref`` = ``<scope>|<direction>|<type>`` (one listing, always read with the org filter), where
``<scope>`` is ``org``, ``pod:<id>`` or ``inbox:<id>``. The id carries the organisation: two
organisations may hold the same org-level entry, each its own (issue 17). Entries are a set:
no update route, duplicates are idempotent (§11 Q19).
``verdict`` is how mail evaluates the lists (used by ``mail.py`` on send and receive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mailctl import limits
from mailctl.sandbox.backend.core import (
    INBOX,
    POD,
    Ctx,
    Reply,
    Row,
    Tx,
    bad_request,
    forbidden,
    load_inbox,
    load_pod,
    no_content,
    not_found,
    now,
    ok,
    on_delete,
    paginate_items,
    require_scope,
)

LIST_ENTRY = "list_entry"
DIRECTIONS = ("send", "receive", "reply")
LIST_TYPES = ("allow", "block")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_DOMAIN = re.compile(rf"^(?:{_LABEL}\.)+[a-z][a-z0-9-]*[a-z0-9]\Z")
_LOCAL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}\Z")


def normalize_entry(raw: str) -> tuple[str, str]:
    """§11 Q20: (lower-cased entry, ``email`` | ``domain``), or ValueError if it is neither."""
    entry = raw.strip().lower()
    if "@" in entry:
        local, _, domain = entry.rpartition("@")
        if not _LOCAL.match(local) or local.startswith(".") or local.endswith(".") or ".." in local:
            raise ValueError(f"{raw!r} is not a valid email address")
        if not _DOMAIN.match(domain) or len(domain) > 253:
            raise ValueError(f"{raw!r} is not a valid email address")
        return entry, "email"
    if not _DOMAIN.match(entry) or len(entry) > 253:
        raise ValueError(f"{raw!r} is neither an email address nor a domain")
    return entry, "domain"


@dataclass(frozen=True)
class ListScope:
    """Where a list lives: ``pod``/``inbox`` are None at org scope (inbox lists carry both)."""

    key: str
    pod: str | None = None
    inbox: str | None = None

    @classmethod
    def of(cls, pod: str | None = None, inbox: str | None = None) -> ListScope:
        return cls(f"inbox:{inbox}" if inbox else f"pod:{pod}" if pod else "org", pod, inbox)


def _route_scope(ctx: Ctx) -> ListScope:
    if "inbox_id" in ctx.params:
        inbox = load_inbox(ctx, ctx.params["inbox_id"])
        return ListScope.of(inbox.pod, inbox.id)
    if "pod_id" in ctx.params:
        return ListScope.of(load_pod(ctx, ctx.params["pod_id"]).id)
    # §11 Q12: org-level lists need an org key (a scoped key uses its pod or inbox route)
    require_scope(ctx, "organization", action="manage organization-level lists")
    return ListScope.of()


def _listing(ctx: Ctx) -> tuple[ListScope, str, str]:
    direction, list_type = ctx.params["direction"], ctx.params["type"]
    if direction not in DIRECTIONS:
        raise bad_request(f"'direction' must be one of {', '.join(DIRECTIONS)}", "direction")
    if list_type not in LIST_TYPES:
        raise bad_request(f"'type' must be one of {', '.join(LIST_TYPES)}", "type")
    return _route_scope(ctx), direction, list_type


def render(row: Row) -> dict[str, Any]:
    body = row.body
    out: dict[str, Any] = {"entry": body["entry"], "organization_id": row.org}
    if row.pod:  # PodListEntry (pod and inbox routes) adds pod_id and, for inbox lists, inbox_id
        out["pod_id"] = row.pod
    if row.inbox:
        out["inbox_id"] = row.inbox
    if body.get("reason") is not None:
        out["reason"] = body["reason"]
    out.update(
        direction=body["direction"],
        list_type=body["list_type"],
        entry_type=body["entry_type"],
        created_at=row.created_at,
    )
    if body.get("read_only"):
        out["read_only"] = True
    return out


def _ref(scope: ListScope, direction: str, list_type: str) -> str:
    return f"{scope.key}|{direction}|{list_type}"


def _entry_id(org: str, ref: str, value: str) -> str:
    return f"{org}|{ref}|{value}"


def insert_entry(
    tx: Tx,
    org: str,
    scope: ListScope,
    direction: str,
    list_type: str,
    entry: str,
    reason: str | None = None,
    *,
    read_only: bool = False,
) -> Row:
    """The entry (normalised), created unless it already exists (then returned unchanged)."""
    value, entry_type = normalize_entry(entry)
    ref = _ref(scope, direction, list_type)
    existing = tx.get(LIST_ENTRY, _entry_id(org, ref, value))
    if existing is not None:
        return existing
    body: dict[str, Any] = {"entry": value, "direction": direction, "list_type": list_type, "entry_type": entry_type}
    if reason is not None:
        body["reason"] = reason
    if read_only:
        body["read_only"] = True
    return tx.insert(
        LIST_ENTRY,
        _entry_id(org, ref, value),
        org=org,
        pod=scope.pod,
        inbox=scope.inbox,
        ref=ref,
        body=body,
        created_at=now(),
    )


def _load(ctx: Ctx) -> Row:
    scope, direction, list_type = _listing(ctx)
    try:
        value, _ = normalize_entry(ctx.params["entry"])
    except ValueError:
        raise not_found("List entry") from None
    row = ctx.tx.get(LIST_ENTRY, _entry_id(ctx.org, _ref(scope, direction, list_type), value))
    if row is None or row.org != ctx.org:
        raise not_found("List entry")
    return row


# ---------------------------------------------------------------------------------------------
# Handlers


def list_entries(ctx: Ctx) -> Reply:
    ctx.caller.require("list_entry_read")
    scope, direction, list_type = _listing(ctx)
    rows = ctx.tx.find(LIST_ENTRY, org=ctx.org, ref=_ref(scope, direction, list_type))
    items = [((r.body["entry"],), render(r)) for r in sorted(rows, key=lambda r: r.body["entry"])]  # by entry
    return ok(paginate_items(ctx, items, "entries", variant=_ref(scope, direction, list_type)))


def create_entry(ctx: Ctx) -> Reply:
    ctx.caller.require("list_entry_create")
    scope, direction, list_type = _listing(ctx)
    entry = ctx.body.string("entry", required=True, limit=limits.LIST_ENTRY) or ""
    reason = ctx.body.string("reason", limit=limits.LIST_REASON)
    try:
        return ok(render(insert_entry(ctx.tx, ctx.org, scope, direction, list_type, entry, reason)))
    except ValueError as exc:
        raise bad_request(
            str(exc), "entry", fix="Give an email address (user@example.com) or a domain (example.com)."
        ) from None


def get_entry(ctx: Ctx) -> Reply:
    ctx.caller.require("list_entry_read")
    return ok(render(_load(ctx)))


def delete_entry(ctx: Ctx) -> Reply:
    ctx.caller.require("list_entry_delete")
    row = _load(ctx)
    if row.body.get("read_only"):
        raise forbidden(
            "cannot_delete",
            f"List entry {row.body['entry']!r} is read-only and cannot be deleted",
            fix="Read-only entries (e.g. bounce suppressions) are managed by AgentMail.",
        )
    ctx.tx.delete(LIST_ENTRY, row.id)
    return no_content()


# ---------------------------------------------------------------------------------------------
# Evaluation (spec §7.6): the most specific scope with a matching entry decides


def _matches(entry: Row, address: str) -> bool:
    value: str = entry.body["entry"]
    if entry.body["entry_type"] == "email":
        return value == address
    domain = address.rpartition("@")[2]
    return domain == value or domain.endswith("." + value)


def verdict(tx: Tx, org: str, inbox: Row, direction: str, address: str) -> str | None:
    """``"block"`` / ``"allow"`` from the most specific scope with a matching entry (block wins
    within a scope); ``"block"`` when no entry matches but an allow list is active; else None."""
    address = address.lower()
    scopes = [ListScope.of(inbox.pod, inbox.id), ListScope.of(inbox.pod), ListScope.of()]
    allow_list_active = False
    for scope in scopes:
        entries = {t: tx.find(LIST_ENTRY, org=org, ref=_ref(scope, direction, t)) for t in LIST_TYPES}
        hits = {t for t, rows in entries.items() if any(_matches(r, address) for r in rows)}
        if hits:
            return "block" if "block" in hits else "allow"
        allow_list_active = allow_list_active or bool(entries["allow"])
    return "block" if allow_list_active else None


# ---------------------------------------------------------------------------------------------
# Cascades (§11 Q11, Q13)


@on_delete(INBOX)
def _inbox_deleted(tx: Tx, inbox: Row) -> None:
    tx.delete_where(LIST_ENTRY, inbox=inbox.id)


@on_delete(POD)
def _pod_deleted(tx: Tx, pod: Row) -> None:
    tx.delete_where(LIST_ENTRY, pod=pod.id)
