"""Issue 10, point 7: organisations using AgentID sign-in have public-key credentials mixed
into their key lists. mailctl treats them as unmanaged: it never plans to change or delete one,
even one named like a declared bearer key, in a declared pod or inbox."""

from __future__ import annotations

import base64

from agentmail import CreatePublicKeyRequest, PublicJwk

_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
INBOX = "agent@agentmail.to"
CONFIG = {
    "version": 1,
    "api_keys": {"ci-reader": {"permissions": {"inbox_read": True}}},
    "pods": {
        "pk-pod": {"name": "AgentID", "inboxes": {INBOX: {"api_keys": {"agent": {}}}}, "api_keys": {"backend": {}}}
    },
}


def _points() -> list[tuple[int, int]]:
    """Three points on P-256: G, -G and 2G (tangent doubling, a = -3)."""
    slope = (3 * _GX * _GX - 3) * pow(2 * _GY, -1, _P) % _P
    x2 = (slope * slope - 2 * _GX) % _P
    return [(_GX, _GY), (_GX, _P - _GY), (x2, (slope * (_GX - x2) - _GY) % _P)]


def _jwk(point: tuple[int, int]) -> PublicJwk:
    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    return PublicJwk(kty="EC", crv="P-256", x=b64(point[0]), y=b64(point[1]))


def test_public_key_credentials_are_never_planned_for_change_or_delete(mailctl, write_config, sandbox):
    config = write_config(CONFIG)
    mailctl.apply(config)
    client = sandbox.sdk()
    pod_id = next(p.pod_id for p in client.pods.list().pods if p.client_id == "pk-pod")
    # one per scope, named like the declared bearer keys of that scope
    first, second, third = (_jwk(p) for p in _points())
    registered = [
        client.api_keys.create(request=CreatePublicKeyRequest(public_key=first, name="ci-reader")),
        client.pods.api_keys.create(pod_id, request=CreatePublicKeyRequest(public_key=second, name="backend")),
        client.inboxes.api_keys.create(INBOX, request=CreatePublicKeyRequest(public_key=third, name="agent")),
    ]
    assert len(client.api_keys.list(type="public_key").api_keys) == 3

    plan = mailctl.plan_json(config)
    assert plan["changes"] == [], plan["changes"]
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
    assert mailctl("drift", "-f", config).exit_code == 0

    # dropping the pod's and inbox's bearer keys deletes those, never a public key of that name
    config_without_keys = write_config({**CONFIG, "pods": {"pk-pod": {"name": "AgentID", "inboxes": {INBOX: {}}}}})
    removal = mailctl.plan_json(config_without_keys)
    assert {c["address"]: c["action"] for c in removal["changes"]} == {
        "pod/pk-pod/api_key/backend": "delete",
        f"pod/pk-pod/inbox/{INBOX}/api_key/agent": "delete",
    }
    assert all(c["before"] is None or "public_key" not in str(c["before"]) for c in removal["changes"])
    mailctl.apply(config_without_keys)
    left = {k.api_key_id for k in client.api_keys.list(type="public_key").api_keys}
    assert left == {k.api_key_id for k in registered}
