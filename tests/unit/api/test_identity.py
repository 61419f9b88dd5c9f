"""The key's identity (``api.identity``): asked once per client; a server without the route is
taken on trust; a key scoped below the organisation is refused, naming its scope."""

from __future__ import annotations

import httpx
import pytest

from mailctl.api.client import AgentMailClient
from mailctl.api.identity import identity, require_organisation_key
from mailctl.errors import ApiError, UsageError


def client_answering(status: int, body: object = None, asked: list[str] | None = None) -> AgentMailClient:
    def handler(request: httpx.Request) -> httpx.Response:
        (asked if asked is not None else []).append(request.url.path)
        return httpx.Response(status, json=body if body is not None else {"message": "no"})

    return AgentMailClient("http://api.test", "am_test_identity_key_0001", transport=httpx.MockTransport(handler))


@pytest.mark.parametrize("status", [404, 405, 501])
def test_a_server_without_the_route_is_taken_on_trust(status: int):
    client = client_answering(status)
    assert identity(client) is None
    require_organisation_key(client)  # no refusal


def test_the_identity_is_asked_once_per_client():
    asked: list[str] = []
    client = client_answering(200, {"scope_type": "organization", "scope_id": "o1"}, asked)
    require_organisation_key(client)
    require_organisation_key(client)
    assert asked == ["/v0/auth/me"]


def test_a_pod_key_is_refused_naming_its_scope():
    client = client_answering(200, {"scope_type": "pod", "scope_id": "pod_123"})
    with pytest.raises(UsageError, match="the API key is scoped to pod pod_123"):
        require_organisation_key(client)


def test_a_refused_key_is_the_error_it_is():
    with pytest.raises(ApiError):
        identity(client_answering(401))
