"""What messages, threads and drafts share: kinds, addresses, labels and their visibility, the
list filters of spec §1.3 (JSON-array query params), and which rows a mail route addresses.

Rows (all carry ``org``/``pod``/``inbox`` columns = the inbox that holds them):
- ``message``: id ``<inbox_id>|<message_id>`` (a sent message and each delivered copy share the
  RFC ``message_id`` but live in different inboxes), ``ref`` = the thread id.
- ``thread``: id = ``thread_id`` (one thread per inbox; the fields are computed from its messages).
- ``draft``: id = ``draft_id``, ``client_id`` for idempotent creates.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from email.utils import getaddresses
from typing import Any

from mailctl.sandbox.backend.core import (
    INBOX,
    Caller,
    Ctx,
    Row,
    Tx,
    bad_request,
    load_inbox,
    load_pod,
    not_found,
    on_delete,
    parse_time,
    scope_filters,
)
from mailctl.sandbox.backend.lists import normalize_entry

MESSAGE, THREAD, DRAFT = "message", "thread", "draft"

# Labels that hide mail unless the key may read them and the listing asks for them (§3.2).
HIDDEN_LABELS = {
    "spam": "label_spam_read",
    "blocked": "label_blocked_read",
    "unauthenticated": "label_unauthenticated_read",
    "trash": "label_trash_read",
}
MAX_LABEL_LEN = 256
PREVIEW_LEN = 200
_TAGS = re.compile(r"<[^>]*>")


# ---------------------------------------------------------------------------------------------
# Addresses


def parse_addresses(value: Any, field: str) -> list[str]:
    """``Addresses`` (a string, possibly comma-separated, or a list of strings) -> formatted
    addresses (``Name <a@b>`` or ``a@b``), each validated; 400 naming the field otherwise."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) for v in items):
        raise bad_request(f"'{field}' must be an address or a list of addresses", field)
    out: list[str] = []
    for name, addr in getaddresses(items):
        try:
            email, kind = normalize_entry(addr)
        except ValueError:
            kind = ""
        if kind != "email":
            raise bad_request(f"'{field}' contains an invalid email address: {addr or name!r}", field)
        out.append(f"{name} <{email}>" if name else email)
    return out


def bare(address: str) -> str:
    """``Name <a@b>`` -> ``a@b`` (lower-cased)."""
    return (getaddresses([address])[0][1] or address).lower()


def sender_address(inbox: Row) -> str:
    name = inbox.body.get("display_name")
    return f"{name} <{inbox.id}>" if name else inbox.id


def preview_of(text: str | None, html: str | None) -> str | None:
    source = text if text else _TAGS.sub(" ", html) if html else None
    if not source:
        return None
    return " ".join(source.split())[:PREVIEW_LEN] or None


# ---------------------------------------------------------------------------------------------
# Labels


def label_list(value: Any, field: str) -> list[str]:
    """``UpdateMessageLabels`` (a label or a list of labels) -> a list of labels."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(v, str) and 1 <= len(v) <= MAX_LABEL_LEN for v in items):
        raise bad_request(f"'{field}' must be a label or a list of labels (1-{MAX_LABEL_LEN} characters)", field)
    return list(dict.fromkeys(items))


def relabel(labels: list[str], add: list[str], remove: list[str]) -> list[str]:
    both = sorted(set(add) & set(remove))
    if both:
        raise bad_request(f"Label {both[0]!r} cannot be both added and removed", "add_labels")
    return [label for label in labels if label not in remove] + [label for label in add if label not in labels]


def readable(caller: Caller, labels: list[str]) -> bool:
    """May this key see mail carrying ``labels`` at all (label permissions, §3.2)?"""
    return all(caller.holds(perm) for label, perm in HIDDEN_LABELS.items() if label in labels)


def listable(ctx: Ctx, labels: list[str]) -> bool:
    """Readable, and every hidden label it carries was asked for with ``include_<label>=true``."""
    return readable(ctx.caller, labels) and all(
        ctx.query.boolean(f"include_{label}") is True for label in HIDDEN_LABELS if label in labels
    )


# ---------------------------------------------------------------------------------------------
# List filters (labels, before, after, and substring filters such as from / to / subject)


def list_filter(
    ctx: Ctx, text_fields: dict[str, Callable[[dict[str, Any]], list[str]]]
) -> Callable[[dict[str, Any]], bool]:
    """A predicate over a rendered item for the query's ``labels``/``before``/``after`` and the
    given text filters (each query value must occur, case-insensitively, in one of the item's)."""
    labels = ctx.query.strings("labels")
    before, after = ctx.query.string("before"), ctx.query.string("after")
    before_at = parse_time(before, "before") if before else None
    after_at = parse_time(after, "after") if after else None
    wanted = {name: [v.lower() for v in ctx.query.strings(name)] for name in text_fields}

    def keep(item: dict[str, Any]) -> bool:
        if any(label not in item.get("labels", []) for label in labels):
            return False
        stamp = parse_time(item.get("timestamp") or item["updated_at"], "timestamp")
        if (before_at and stamp >= before_at) or (after_at and stamp <= after_at):
            return False
        for name, values in wanted.items():
            haystack = [v.lower() for v in text_fields[name](item)]
            if not all(any(v in h for h in haystack) for v in values):  # repeated: all must match
                return False
        return True

    return keep


def filter_variant(ctx: Ctx) -> str:
    """The query's filters (not its paging), so a page token stays bound to the same filters."""
    return repr(sorted((k, v) for k, v in ctx.query.pairs if k not in ("page_token", "limit")))


# ---------------------------------------------------------------------------------------------
# Which rows a route addresses: /v0/inboxes/{inbox_id}/..., /v0/pods/{pod_id}/..., /v0/...


def route_filters(ctx: Ctx) -> dict[str, Any]:
    """Store filters for the route's inbox, pod or (org routes) the caller's scope; 403/404 as §3.1."""
    if "inbox_id" in ctx.params:
        return {"inbox": load_inbox(ctx, ctx.params["inbox_id"]).id}
    if "pod_id" in ctx.params:
        return {"pod": load_pod(ctx, ctx.params["pod_id"]).id}
    return scope_filters(ctx.caller)


def load_scoped(ctx: Ctx, kind: str, row_id: str, what: str) -> Row:
    """A message/thread/draft row within the route's and the caller's scope, else 404."""
    filters = route_filters(ctx)
    row = ctx.tx.get(kind, row_id)
    if row is None or row.org != ctx.org or any(getattr(row, k) != v for k, v in filters.items()):
        raise not_found(what)
    return row


# ---------------------------------------------------------------------------------------------
# Cascade (spec §8): deleting an inbox deletes its messages, threads and drafts


@on_delete(INBOX)
def _inbox_deleted(tx: Tx, inbox: Row) -> None:
    for kind in (MESSAGE, THREAD, DRAFT):
        tx.delete_where(kind, inbox=inbox.id)
