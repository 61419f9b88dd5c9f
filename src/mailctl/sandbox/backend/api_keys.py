"""API keys (spec §7.4): bearer keys at org, pod and inbox scope."""

from __future__ import annotations

from typing import Any

from mailctl.sandbox.backend.core import API_KEY, Row, Tx, new_id, now, secret_hash

BOOTSTRAP_KEY_NAME = "sandbox bootstrap key"


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
) -> Row:
    key_id, stamp = new_id(), now()
    prefix = display_prefix(secret)
    # §11 Q16: a key created without a name is named after its prefix
    body: dict[str, Any] = {"prefix": prefix, "name": name if name is not None else prefix, "updated_at": stamp}
    if permissions is not None:
        body["permissions"] = permissions
    if expires_at is not None:
        body["expires_at"] = expires_at
    return tx.insert(API_KEY, key_id, org=org, pod=pod, inbox=inbox, body=body, created_at=stamp, ref=secret_hash(secret))


def ensure_bootstrap_key(tx: Tx, org: str, secret: str) -> Row:
    existing = tx.find_one(API_KEY, ref=secret_hash(secret))
    return existing or insert_key(tx, org, secret, name=BOOTSTRAP_KEY_NAME)
