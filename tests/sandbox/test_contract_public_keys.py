"""Issue 10: public-key (AgentID) credentials. A P-256 JWK POSTed to any of the three api-keys
routes registers one; it is listed with `type: public_key` next to bearer keys, filterable with
`?type=`, and its raw JSON validates as the SDK's `PublicKeyCredential` (the harness checks
every body). Bad JWKs, points off the curve included, are 400."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from agentmail import ApiKeyPermissions, CreatePublicKeyRequest, PublicJwk, PublicKeyCredential
from contract_harness import ORG_KEY, Sandbox, auth, raises_api_error

_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5


def _b64(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()


def jwk(negate: bool = False, **override: Any) -> dict[str, Any]:
    """The P-256 generator (or its negation: another point on the curve) as a public JWK."""
    return {"kty": "EC", "crv": "P-256", "x": _b64(_GX), "y": _b64(_P - _GY if negate else _GY), **override}


def _request(key: dict[str, Any], **fields: Any) -> CreatePublicKeyRequest:
    return CreatePublicKeyRequest(public_key=PublicJwk(**key), **fields)


def test_registering_on_the_org_route_lists_it_next_to_bearer_keys(sandbox: Sandbox) -> None:
    created = sandbox.client.api_keys.create(request=_request(jwk(), name="agent-id", client_id="agent-1"))
    assert isinstance(created, PublicKeyCredential)
    assert created.type == "public_key" and created.public_key is not None
    assert created.public_key.jwk.x == jwk()["x"] and len(created.public_key.fingerprint) == 43
    listed = sandbox.client.api_keys.list().api_keys
    assert sorted(k.type for k in listed) == ["bearer", "public_key"]
    assert [k.api_key_id for k in sandbox.client.api_keys.list(type="public_key").api_keys] == [created.api_key_id]
    assert all(k.type == "bearer" for k in sandbox.client.api_keys.list(type="bearer").api_keys)
    fetched = sandbox.client.api_keys.get(created.api_key_id)
    assert isinstance(fetched, PublicKeyCredential) and fetched.created_by.api_key_id


def test_registering_on_pod_and_inbox_routes_scopes_it(sandbox: Sandbox) -> None:
    pod = sandbox.client.pods.create(name="agents").pod_id
    inbox = sandbox.client.pods.inboxes.create(pod, username="agent").inbox_id
    sandbox.client.pods.api_keys.create(pod, request=_request(jwk(), permissions=ApiKeyPermissions(inbox_read=True)))
    sandbox.client.inboxes.api_keys.create(inbox, request=_request(jwk(negate=True)))
    pod_keys = sandbox.client.pods.api_keys.list(pod).api_keys
    inbox_keys = sandbox.client.inboxes.api_keys.list(inbox).api_keys
    assert [(k.type, k.pod_id) for k in pod_keys] == [("public_key", pod)]
    assert [(k.type, k.inbox_id) for k in inbox_keys] == [("public_key", inbox)]
    assert pod_keys[0].permissions.inbox_read is True


def test_a_client_id_replays_and_a_second_registration_of_one_key_is_refused(sandbox: Sandbox) -> None:
    first = sandbox.client.api_keys.create(request=_request(jwk(), client_id="same"))
    assert sandbox.client.api_keys.create(request=_request(jwk(), client_id="same")).api_key_id == first.api_key_id
    with raises_api_error(403, "already_exists"):
        sandbox.client.api_keys.create(request=_request(jwk()))


def test_a_public_key_never_authenticates_as_a_bearer_key(sandbox: Sandbox) -> None:
    created = sandbox.client.api_keys.create(request=_request(jwk()))
    assert created.public_key is not None
    response = sandbox.http.get("/v0/pods", headers=auth(created.public_key.fingerprint))
    assert response.status_code == 401


@pytest.mark.parametrize(
    "bad",
    [
        jwk(y=_b64(_GY + 1)),  # not on the curve
        jwk(kty="RSA"),
        jwk(crv="P-384"),
        jwk(d=_b64(1)),  # private material
        jwk(x="too-short"),
        jwk(x=_b64(_GX) + "="),  # not 32 bytes of unpadded base64url
        {"kty": "EC", "crv": "P-256", "x": _b64(_GX)},  # no y
        "not an object",
    ],
)
def test_bad_jwks_are_400(sandbox: Sandbox, bad: Any) -> None:
    response = sandbox.http.post("/v0/api-keys", headers=auth(ORG_KEY), json={"public_key": bad})
    assert (response.status_code, response.json()["code"]) == (400, "validation_error")
    assert sandbox.client.api_keys.list(type="public_key").api_keys == []
