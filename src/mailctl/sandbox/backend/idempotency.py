"""``Idempotency-Key`` on the send routes (send, reply, reply-all, forward, draft send), as the
official SDKs expose it and the API documents it (spec §5, §2.3):

- the same key and the same request within 24 h returns the original response and sends nothing;
- the same key with another request (route, path or body) is 409 ``conflict``;
- an empty key, or one outside 1-256 of ``A-Z a-z 0-9 - . _ ~``, is 400.

Keys are remembered per organisation, in the store and in the send's own transaction, so a
write that commits but whose response is lost (a fault "after") replays the original on retry.
Only successful responses are remembered: a refused send can be retried with the same key.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from functools import wraps

from mailctl.sandbox.backend.core import Ctx, Handler, Reply, bad_request, conflict, load_inbox, now, parse_time
from mailctl.sandbox.backend.validate import CLIENT_ID_RE

IDEMPOTENCY = "idempotency"
LIFETIME = timedelta(hours=24)
HEADER = "Idempotency-Key"


def _fingerprint(ctx: Ctx) -> str:
    request = [ctx.method, ctx.route, sorted(ctx.params.items()), ctx.body.data]
    return hashlib.sha256(json.dumps(request, sort_keys=True, ensure_ascii=True).encode()).hexdigest()


def idempotent(handler: Handler) -> Handler:
    """Wrap a send handler so it honours ``Idempotency-Key``."""

    @wraps(handler)
    def wrapped(ctx: Ctx) -> Reply:
        key = ctx.idempotency_key
        if key is None:
            return handler(ctx)
        if not CLIENT_ID_RE.match(key):
            raise bad_request(f"'{HEADER}' must be 1-256 characters from A-Z a-z 0-9 - . _ ~", HEADER)
        row_id, fingerprint = f"{ctx.org}|{key}", _fingerprint(ctx)
        stored = ctx.tx.get(IDEMPOTENCY, row_id)
        if stored is not None and datetime.now(UTC) - parse_time(stored.created_at, "created_at") >= LIFETIME:
            ctx.tx.delete(IDEMPOTENCY, row_id)
            stored = None
        if stored is not None:
            if stored.body["fingerprint"] != fingerprint:
                raise conflict("conflict", f"{HEADER} '{key}' was already used with a different request")
            load_inbox(ctx, ctx.params["inbox_id"])  # a replay still needs the inbox in scope
            return Reply(stored.body["status"], stored.body["response"])
        reply = handler(ctx)
        if 200 <= reply.status < 300:
            ctx.tx.insert(
                IDEMPOTENCY,
                row_id,
                org=ctx.org,
                created_at=now(),
                body={"fingerprint": fingerprint, "status": reply.status, "response": reply.body},
            )
        return reply

    return wrapped
