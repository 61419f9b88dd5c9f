"""List envelopes with opaque page tokens (spec §4, §11 Q6/Q7).

A token is base64url(JSON) of the last row's (created_at, seq), the order and a fingerprint of
the listing (route + filters), so a token replayed on another listing or with another order is
a 400 rather than a silent wrong page. ``count`` is the number of items in this page.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mailctl.sandbox.backend.errors import bad_request
from mailctl.sandbox.store import Cursor, Row

if TYPE_CHECKING:
    from mailctl.sandbox.backend.core import Ctx

MAX_LIMIT = 100  # §11 Q6: the only documented cap (search); applied to every list


def _fingerprint(listing: str) -> str:
    return hashlib.sha256(listing.encode()).hexdigest()[:12]


def encode_token(row: Row, ascending: bool, listing: str) -> str:
    raw = json.dumps({"c": row.created_at, "s": row.seq, "a": ascending, "f": _fingerprint(listing)})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_token(token: str, ascending: bool, listing: str) -> Cursor:
    invalid = bad_request(
        "Invalid page_token", "page_token", fix="Start again without page_token, keeping the same filters."
    )
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        cursor = Cursor(str(data["c"]), int(data["s"]))
        same_listing = data["a"] is ascending and data["f"] == _fingerprint(listing)
    except (ValueError, TypeError, KeyError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise invalid from None
    if not same_listing or not -(2**63) <= cursor.seq < 2**63:  # a forged seq SQLite cannot hold
        raise invalid
    return cursor


def page_limit(ctx: Ctx) -> int:
    limit = ctx.query.integer("limit")
    if limit is None:
        return ctx.settings.page_size
    if not 1 <= limit <= MAX_LIMIT:
        raise bad_request(f"'limit' must be between 1 and {MAX_LIMIT}", "limit")
    return limit


def paginate(
    ctx: Ctx,
    kind: str,
    items_key: str,
    render: Callable[[Row], dict[str, Any]],
    *,
    visible: Callable[[Row], bool] | None = None,
    allow_ascending: bool = True,
    include_limit: bool = True,
    variant: str = "",
    **filters: Any,
) -> dict[str, Any]:
    """One page of ``kind`` rows matching ``filters``, newest first unless ``ascending=true``.

    ``visible`` hides rows after paging (scope rules that SQL filters cannot express); such a
    page may come back short or even empty while still carrying a ``next_page_token``.
    ``variant`` names any non-column filter (e.g. a ``type=`` query) so tokens stay bound to it.
    """
    ascending = bool(ctx.query.boolean("ascending")) if allow_ascending else False
    limit = page_limit(ctx)
    listing = f"{ctx.route}|{sorted(filters.items())}|{variant}"
    token = ctx.query.string("page_token")
    after = decode_token(token, ascending, listing) if token else None
    rows = ctx.tx.page(kind, after=after, ascending=ascending, limit=limit + 1, **filters)
    page, more = rows[:limit], len(rows) > limit
    items = [render(r) for r in page if visible is None or visible(r)]
    envelope: dict[str, Any] = {"count": len(items)}  # §11 Q7: items in this page, not a total
    if include_limit:
        envelope["limit"] = limit
    if more:
        envelope["next_page_token"] = encode_token(page[-1], ascending, listing)
    envelope[items_key] = items
    return envelope


def paginate_items(ctx: Ctx, items: list[dict[str, Any]], items_key: str, *, variant: str = "") -> dict[str, Any]:
    """Page an already ordered, in-memory list (e.g. search results ranked by relevance)."""
    limit = page_limit(ctx)
    listing = f"{ctx.route}|{sorted(ctx.params.items())}|{variant}"  # one pod's search is not another's
    token = ctx.query.string("page_token")
    offset = decode_token(token, False, listing).seq if token else 0
    if offset < 0:  # only a forged token says so
        raise bad_request("Invalid page_token", "page_token", fix="Start again without page_token.")
    page = items[offset : offset + limit]
    envelope: dict[str, Any] = {"count": len(page), "limit": limit}
    if offset + limit < len(items):
        marker = Row("", "", "", None, None, None, None, "", offset + limit, {})
        envelope["next_page_token"] = encode_token(marker, False, listing)
    envelope[items_key] = page
    return envelope
