"""Public-key (AgentID) credentials (spec §7.4, ``PublicKeyCredential``): a P-256 JWK registered
on any of the three api-keys routes; it never authenticates a bearer request.

The JWK holds exactly ``kty: EC``, ``crv: P-256``, ``x`` and ``y`` (unpadded base64url, 32 bytes
each), and the point must lie on the curve; anything else is 400. The fingerprint is the
RFC 7638 SHA-256 thumbprint. ``permissions`` default to the registering key's (as explicit
flags: the model requires them; see ``api_keys``), ``client_id`` makes registration idempotent, and one fingerprint
registers once per organisation (403 ``already_exists``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from typing import Any

from mailctl.sandbox.backend.core import (
    API_KEY,
    Ctx,
    Row,
    bad_request,
    forbidden,
    new_id,
    now,
    replay_client_id,
)

PUBLIC_KEY = "public_key"
# P-256 (FIPS 186-4 D.1.2.3): y^2 = x^3 - 3x + b over GF(p)
_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
_JWK_MEMBERS = ("kty", "crv", "x", "y")


def on_curve(x: int, y: int) -> bool:
    return 0 <= x < _P and 0 <= y < _P and (y * y - (x * x * x - 3 * x + _B)) % _P == 0


def _coordinate(jwk: dict[str, Any], name: str) -> int:
    value = jwk.get(name)
    path = f"public_key.{name}"
    if not isinstance(value, str) or len(value) != 43 or "=" in value:
        raise bad_request(f"'{path}' must be 32 bytes of unpadded base64url (43 characters)", path)
    try:
        raw = base64.urlsafe_b64decode(value + "=")
    except (binascii.Error, ValueError):
        raise bad_request(f"'{path}' is not base64url", path) from None
    if len(raw) != 32 or base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != value:
        raise bad_request(f"'{path}' must be 32 bytes of unpadded base64url", path)
    return int.from_bytes(raw, "big")


def parse_jwk(value: Any) -> dict[str, str]:
    """The validated JWK (exactly kty, crv, x, y; a point on P-256), or 400 naming the member."""
    if not isinstance(value, dict):
        raise bad_request("'public_key' must be a JWK object", "public_key")
    extra = sorted(set(value) - set(_JWK_MEMBERS))
    if extra:
        raise bad_request(
            f"'public_key' accepts exactly kty, crv, x and y; not {', '.join(extra)}", f"public_key.{extra[0]}"
        )
    if value.get("kty") != "EC":
        raise bad_request("'public_key.kty' must be EC", "public_key.kty")
    if value.get("crv") != "P-256":
        raise bad_request("'public_key.crv' must be P-256", "public_key.crv")
    if not on_curve(_coordinate(value, "x"), _coordinate(value, "y")):
        raise bad_request("'public_key' is not a point on P-256", "public_key")
    return {name: value[name] for name in _JWK_MEMBERS}


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 of the required members, sorted, no whitespace; unpadded base64url."""
    canonical = json.dumps({k: jwk[k] for k in sorted(jwk)}, separators=(",", ":"))
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def register(
    ctx: Ctx, pod: str | None, inbox: str | None, permissions: dict[str, bool], name: str | None, expires_at: str | None
) -> Row:
    """Create (or replay, by ``client_id``) a public-key credential at the route's scope."""
    jwk = parse_jwk(ctx.body.raw("public_key"))
    client_id = ctx.body.client_id()
    existing = replay_client_id(ctx, API_KEY, client_id, visible=lambda row: (row.pod, row.inbox) == (pod, inbox))
    if existing is not None:
        return existing
    fingerprint = thumbprint(jwk)
    if any(row.body.get("fingerprint") == fingerprint for row in ctx.tx.find(API_KEY, org=ctx.org)):
        raise forbidden(
            "already_exists",
            "This public key is already registered in the organization",
            fix="Use the existing credential.",
        )
    stamp = now()
    body: dict[str, Any] = {
        "type": PUBLIC_KEY,
        "name": name or f"AgentID key {fingerprint[:8]}",
        "jwk": jwk,
        "fingerprint": fingerprint,
        "permissions": permissions,
        "created_by": ctx.caller.api_key_id,
        "status": "active",
        "updated_at": stamp,
    }
    if expires_at is not None:
        body["expires_at"] = expires_at
    return ctx.tx.insert(
        API_KEY, new_id(), org=ctx.org, pod=pod, inbox=inbox, client_id=client_id, body=body, created_at=stamp
    )


def render(row: Row) -> dict[str, Any]:
    """``PublicKeyCredential``."""
    body = row.body
    out: dict[str, Any] = {"type": PUBLIC_KEY, "api_key_id": row.id}
    if row.client_id:
        out["client_id"] = row.client_id
    out["name"] = body["name"]
    out["public_key"] = {"jwk": body["jwk"], "fingerprint": body["fingerprint"]}
    if row.pod:
        out["pod_id"] = row.pod
    if row.inbox:
        out["inbox_id"] = row.inbox
    out["status"] = body["status"]
    if "used_at" in body:
        out["used_at"] = body["used_at"]
    out.update(
        permissions=body["permissions"],
        created_by={"api_key_id": body["created_by"]},
        created_at=row.created_at,
        updated_at=body["updated_at"],
    )
    if "expires_at" in body:
        out["expires_at"] = body["expires_at"]
    return out
