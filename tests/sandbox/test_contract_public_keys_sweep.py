"""Public-key (AgentID) credentials: JWK validation that names the bad member, and the optional
fields of ``PublicKeyCredential`` (``client_id``, ``status``, ``expires_at``) on every read (SDK
``api_keys``, spec §7.4). Each test pins a line of ``sandbox/backend/public_keys.py`` that the
mutation sweep (``.ci/mutate.py --sweep``) found no other test depending on."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from agentmail import (
    ApiKeyPermissions,
    CreateApiKeyResponse,
    CreateBearerApiKeyRequest,
    CreatePublicKeyRequest,
    ListApiKeysResponse,
    PublicJwk,
    PublicKeyCredential,
    ValidationErrorResponse,
)
from contract_harness import ORG_KEY, Sandbox, auth

_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _b64(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()


def _stray_bits(coordinate: str) -> str:
    """The same 32 bytes with the two unused low bits of the last character set: it decodes to the
    same coordinate but is not the canonical unpadded base64url of it."""
    return coordinate[:-1] + _ALPHABET[_ALPHABET.index(coordinate[-1]) | 1]


def jwk(negate: bool = False, **override: Any) -> dict[str, Any]:
    """The P-256 generator (or its negation: another point on the curve) as a public JWK."""
    return {"kty": "EC", "crv": "P-256", "x": _b64(_GX), "y": _b64(_P - _GY if negate else _GY), **override}


def _register(sandbox: Sandbox, key: str = ORG_KEY, **body: Any) -> tuple[int, dict[str, Any]]:
    response = sandbox.http.post("/v0/api-keys", headers=auth(key), json=body)
    return response.status_code, response.json()


def _assert_400_at(sandbox: Sandbox, public_key: Any, path: str) -> None:
    status, body = _register(sandbox, public_key=public_key)
    assert (status, body.get("code")) == (400, "validation_error"), body
    error = ValidationErrorResponse.model_validate(body)
    assert [e["path"] for e in error.errors] == [path]
    assert sandbox.client.api_keys.list(type="public_key").api_keys == []


# ---------------------------------------------------------------------------------------------
# POST /v0/api-keys with a public_key: the JWK's validation


@pytest.mark.parametrize("x", ["é" * 43, "A" * 42 + "."], ids=["non-ascii", "bad-padding"])
def test_an_undecodable_coordinate_is_400_naming_it(sandbox: Sandbox, x: str) -> None:
    """Without the ``is not base64url`` raise, a coordinate base64 cannot decode (non-ASCII, or
    one that leaves bad padding) fell through to an unbound value: a 500 instead of a 400 that
    names ``public_key.x``."""
    _assert_400_at(sandbox, jwk(x=x), "public_key.x")


@pytest.mark.parametrize(
    ("x", "y"),
    [(_stray_bits(_b64(_GX)), _b64(_GY)), (_b64(_GX), _stray_bits(_b64(_GY))), ("." * 43, _b64(_GY))],
    ids=["x-stray-bits", "y-stray-bits", "x-no-base64-characters"],
)
def test_a_coordinate_that_is_not_canonical_32_bytes_is_400_naming_it(sandbox: Sandbox, x: str, y: str) -> None:
    """Without the ``32 bytes of unpadded base64url`` raise, a coordinate with stray low bits (it
    decodes to the generator's, so the point is on the curve) was registered, and one with no
    base64 characters at all (decoded to zero bytes) was blamed on the whole key, not on
    ``public_key.x``."""
    name = "x" if x != _b64(_GX) else "y"
    _assert_400_at(sandbox, jwk(x=x, y=y), f"public_key.{name}")


@pytest.mark.parametrize("bad", [[], ["kty", "crv", "x", "y"], 42, "EC"], ids=["empty-list", "list", "int", "str"])
def test_a_public_key_that_is_not_an_object_is_400_naming_public_key(sandbox: Sandbox, bad: Any) -> None:
    """Without the ``must be a JWK object`` raise, a list or a number as ``public_key`` was a 500
    (no ``.get`` / not iterable) and a string was blamed on a member named after its letters."""
    _assert_400_at(sandbox, bad, "public_key")


# ---------------------------------------------------------------------------------------------
# PublicKeyCredential's optional fields, on create and on every read


def _reads(sandbox: Sandbox, api_key_id: str) -> list[dict[str, Any]]:
    """The credential's raw JSON as ``GET /v0/api-keys/{id}`` and ``GET /v0/api-keys`` return it,
    each validated as the SDK model."""
    fetched = sandbox.http.get(f"/v0/api-keys/{api_key_id}", headers=auth(ORG_KEY)).json()
    PublicKeyCredential.model_validate(fetched)
    listed = sandbox.http.get("/v0/api-keys", params={"type": "public_key"}, headers=auth(ORG_KEY)).json()
    ListApiKeysResponse.model_validate(listed)
    return [fetched, *(k for k in listed["api_keys"] if k["api_key_id"] == api_key_id)]


def test_a_client_id_is_returned_on_create_and_every_read(sandbox: Sandbox) -> None:
    """Without the ``client_id`` line in the render, a credential registered with a ``client_id``
    came back without it (the SDK model has the field; mailctl matches on it); one registered
    without it has none, not ``null`` (spec §9.2)."""
    status, created = _register(sandbox, public_key=jwk(), client_id="agent-7")
    assert status == 200
    assert PublicKeyCredential.model_validate(created).client_id == "agent-7"
    assert [r["client_id"] for r in _reads(sandbox, created["api_key_id"])] == ["agent-7", "agent-7"]
    status, plain = _register(sandbox, public_key=jwk(negate=True))
    assert status == 200 and "client_id" not in plain
    assert all("client_id" not in r for r in _reads(sandbox, plain["api_key_id"]))


def test_a_registered_public_key_is_active_on_create_and_every_read(sandbox: Sandbox) -> None:
    """Without the ``status`` line in the render, a registered key had no status (the SDK's
    ``PublicKeyStatus`` is ``pending | active``; a key registered with its material is active)."""
    created = sandbox.client.api_keys.create(request=CreatePublicKeyRequest(public_key=PublicJwk(**jwk())))
    assert isinstance(created, PublicKeyCredential) and created.status == "active"
    assert [r["status"] for r in _reads(sandbox, created.api_key_id)] == ["active", "active"]


def test_an_explicit_expires_at_is_kept_and_returned(sandbox: Sandbox) -> None:
    """Without storing ``expires_at`` at registration, or without its line in the render, a key
    registered with an expiry came back with none (``CreatePublicKeyRequest.expires_at``)."""
    expires = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    created = sandbox.client.api_keys.create(
        request=CreatePublicKeyRequest(public_key=PublicJwk(**jwk()), expires_at=expires)
    )
    assert isinstance(created, PublicKeyCredential) and created.expires_at == expires
    reads = _reads(sandbox, created.api_key_id)
    assert [PublicKeyCredential.model_validate(r).expires_at for r in reads] == [expires, expires]


def test_without_expires_at_a_public_key_inherits_the_registering_keys_expiry(sandbox: Sandbox) -> None:
    """Without storing or rendering ``expires_at``, a key registered by an expiring bearer key
    lost that expiry (SDK ``CreatePublicKeyRequest``: "``expires_at`` defaults to the registering
    key's expiry"); a key registered by a key that never expires has none."""
    expires = (datetime.now(UTC) + timedelta(days=5)).replace(microsecond=0)
    bearer = sandbox.client.api_keys.create(
        request=CreateBearerApiKeyRequest(
            name="registrar", permissions=ApiKeyPermissions(api_key_create=True), expires_at=expires
        )
    )
    assert isinstance(bearer, CreateApiKeyResponse)
    status, created = _register(sandbox, key=bearer.api_key, public_key=jwk())
    assert status == 200, created
    assert PublicKeyCredential.model_validate(created).expires_at == expires
    assert [PublicKeyCredential.model_validate(r).expires_at for r in _reads(sandbox, created["api_key_id"])] == [
        expires,
        expires,
    ]
    status, forever = _register(sandbox, public_key=jwk(negate=True))
    assert status == 200 and "expires_at" not in forever
