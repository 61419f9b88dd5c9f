"""List envelopes with opaque page tokens (spec §4, §11 Q6/Q7).

A token is base64url(JSON) of the last row's (created_at, seq), the order and a fingerprint of
the listing (route + filters), so a token replayed on another listing or with another order is
a 400 rather than a silent wrong page. ``count`` is the number of items in this page.

Lists ordered otherwise (list entries by entry, inbox search by relevance) are paged the same
way, on the last item's *position* in that order (``paginate_items``), never on an offset: an
item deleted between two pages would hide another, and one added would repeat another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mailctl.sandbox.backend.errors import bad_request
from mailctl.sandbox.store import Cursor, Row

if TYPE_CHECKING:
    from mailctl.sandbox.backend.core import Ctx

MAX_LIMIT = 100  # §11 Q6: the only documented cap (search); applied to every list
Position = tuple[int | str, ...]  # where an item sits in an in-memory listing's order (ascending)


def _fingerprint(listing: str) -> str:
    return hashlib.sha256(listing.encode()).hexdigest()[:12]


def _encode(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _invalid_token() -> Exception:
    return bad_request(
        "Invalid page_token", "page_token", fix="Start again without page_token, keeping the same filters."
    )


def _decode(token: str) -> Any:
    try:
        return json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _invalid_token() from None


def encode_token(row: Row, ascending: bool, listing: str) -> str:
    return _encode({"c": row.created_at, "s": row.seq, "a": ascending, "f": _fingerprint(listing)})


def decode_token(token: str, ascending: bool, listing: str) -> Cursor:
    data = _decode(token)
    try:
        cursor = Cursor(str(data["c"]), int(data["s"]))
        same_listing = data["a"] is ascending and data["f"] == _fingerprint(listing)
    except (ValueError, TypeError, KeyError, OverflowError):
        raise _invalid_token() from None
    if not same_listing or not -(2**63) <= cursor.seq < 2**63:  # a forged seq SQLite cannot hold
        raise _invalid_token()
    return cursor


def _decode_position(token: str, listing: str, like: Position | None) -> Position:
    """The position a token holds; 400 unless it is of this listing and shaped like its
    positions (``like``: any item's), so comparing it can never fail."""
    data = _decode(token)
    try:
        position = tuple(data["k"])
        same_listing = data["f"] == _fingerprint(listing)
    except (TypeError, KeyError):
        raise _invalid_token() from None
    kinds = tuple(type(value) for value in position)
    if not same_listing or not all(kind in (int, str) for kind in kinds):
        raise _invalid_token()
    if like is not None and kinds != tuple(type(value) for value in like):
        raise _invalid_token()
    return position


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


def paginate_items(
    ctx: Ctx, items: Sequence[tuple[Position, dict[str, Any]]], items_key: str, *, variant: str = ""
) -> dict[str, Any]:
    """Page an in-memory listing: ``(position, item)`` pairs in the listing's order, positions
    strictly ascending (list entries: ``(entry,)``; search: rank, then newest first). The token
    holds the last item's position, and the next page starts after it wherever the items are
    now: deleting or adding one between pages never hides or repeats another."""
    limit = page_limit(ctx)
    listing = f"{ctx.route}|{sorted(ctx.params.items())}|{variant}"  # one pod's search is not another's
    token = ctx.query.string("page_token")
    positions = [position for position, _ in items]
    start = 0
    if token:
        start = bisect_right(positions, _decode_position(token, listing, positions[0] if positions else None))
    page = items[start : start + limit]
    envelope: dict[str, Any] = {"count": len(page), "limit": limit}
    if start + limit < len(items):
        envelope["next_page_token"] = _encode({"k": list(page[-1][0]), "f": _fingerprint(listing)})
    envelope[items_key] = [item for _, item in page]
    return envelope
