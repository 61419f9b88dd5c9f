"""The reader places keys and webhooks in the right scope even when the API omits pod_id on
inbox-scoped rows (documented for some inbox webhooks), and skips rows of pods it cannot see."""

from __future__ import annotations

import httpx

from mailctl.api.client import AgentMailClient
from mailctl.api.reader import StateReader
from mailctl.resources import DesiredState

T = "2026-01-01T00:00:00Z"
ROWS = {
    "/v0/auth/me": {"scope_type": "organization", "scope_id": "org1", "organization_id": "org1"},
    "/v0/pods": {"pods": [{"pod_id": "p1", "name": "A", "client_id": "tenant-a", "created_at": T, "updated_at": T}]},
    "/v0/inboxes": {
        "inboxes": [
            {"pod_id": "p1", "inbox_id": "x@agentmail.to", "email": "x@agentmail.to", "created_at": T, "updated_at": T}
        ]
    },
    "/v0/domains": {"domains": []},
    "/v0/api-keys": {
        "api_keys": [
            {
                "type": "bearer",
                "api_key_id": "k1",
                "prefix": "am_1",
                "name": "agent",
                "inbox_id": "X@agentmail.to",
                "created_at": T,
                "updated_at": T,
            },
            {
                "type": "bearer",
                "api_key_id": "k2",
                "prefix": "am_2",
                "name": "ghost",
                "pod_id": "p-unseen",
                "created_at": T,
                "updated_at": T,
            },
        ]
    },
    "/v0/webhooks": {
        "webhooks": [
            {
                "webhook_id": "w1",
                "url": "https://h.example/x",
                "event_types": ["message.received"],
                "inbox_id": "x@agentmail.to",
                "secret": "whsec_x",
                "enabled": True,
                "created_at": T,
                "updated_at": T,
            }
        ]
    },
}


def test_inbox_scoped_rows_without_pod_id_land_under_their_inbox():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={**ROWS[request.url.path], "count": 1})

    client = AgentMailClient("http://api.test", "am_test_key_for_reader_x", transport=httpx.MockTransport(handler))
    state = StateReader(client).read(DesiredState())
    assert "pod/tenant-a/inbox/x@agentmail.to/api_key/agent" in state.resources
    assert "pod/tenant-a/inbox/x@agentmail.to/webhook/w1" in state.resources
    assert not any("ghost" in address for address in state.resources)
    hook = state.resources["pod/tenant-a/inbox/x@agentmail.to/webhook/w1"]
    assert "whsec_x" not in repr(hook.attrs)  # the webhook secret is never part of the state


def test_pods_handed_over_by_the_lock_serve_one_read_only():
    """The apply lock's pod rows are a moment old: a second read of the same reader lists afresh."""
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json={**ROWS[request.url.path], "count": 1})

    client = AgentMailClient("http://api.test", "am_test_key_for_reader_x", transport=httpx.MockTransport(handler))
    reader = StateReader(client, pods=ROWS["/v0/pods"]["pods"])
    reader.read(DesiredState())
    assert "/v0/pods" not in paths  # the handed-over rows, not listed again
    paths.clear()
    reader.read(DesiredState())
    assert "/v0/pods" in paths
