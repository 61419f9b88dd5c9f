"""Authentication: ``Authorization: Bearer <key>`` -> the calling ``Caller`` (spec §3, §2.3 401s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from mailctl.sandbox.backend.core import API_KEY, Caller, Tx, now, parse_time, secret_hash, unauthorized

USED_AT_RESOLUTION = timedelta(seconds=60)  # write used_at at most once a minute per key


def bearer_token(header: str | None) -> str | None:
    """The token of a well-formed ``Bearer`` header (scheme is case-sensitive), else None."""
    if not header or not header.startswith("Bearer "):
        return None
    token = header[len("Bearer ") :].strip()
    return token or None


def _expired(expires_at: str | None, current: datetime) -> bool:
    return bool(expires_at) and parse_time(str(expires_at), "expires_at") <= current


def live_key_org(tx: Tx, token: str) -> str | None:
    """The organisation of a key that exists and has not expired, else None. The app asks this
    before the rate limit and the stats, so a deleted or expired key spends no budget and is
    counted nowhere (issue 17): it gets its 401 from ``authenticate``."""
    row = tx.find_one(API_KEY, ref=secret_hash(token))
    if row is None or _expired(row.body.get("expires_at"), datetime.now(UTC)):
        return None
    return row.org


def authenticate(tx: Tx, header: str | None) -> Caller:
    token = bearer_token(header)
    if token is None:
        raise unauthorized("missing_authorization", "Missing or malformed Authorization header")
    if token.startswith("eyJ") and token.count(".") == 2:
        raise unauthorized("invalid_token_type", "Console session tokens cannot call the API; use an API key")
    row = tx.find_one(API_KEY, ref=secret_hash(token))
    if row is None:
        raise unauthorized("unknown_api_key", "Unknown API key")
    expires_at = row.body.get("expires_at")
    current = datetime.now(UTC)
    if _expired(expires_at, current):
        raise unauthorized("api_key_expired", "API key expired")
    used_at = row.body.get("used_at")
    if used_at is None or current - parse_time(used_at, "used_at") >= USED_AT_RESOLUTION:
        row.body["used_at"] = now()
        tx.update(row)
    return Caller(
        org_id=row.org,
        api_key_id=row.id,
        pod_id=row.pod,
        inbox_id=row.inbox,
        permissions=row.body.get("permissions"),
        expires_at=expires_at,
    )
