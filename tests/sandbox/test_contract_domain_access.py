"""Who may do what with domains (spec §3.1, §3.2, §11 Q10, Q12): an org-level domain is out of a pod
key's reach (403 `forbidden`), a domain on the key's own pod route is not; every domain read needs
`domain_read` (403 `missing_permission`)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from agentmail import AgentMail, ApiKeyPermissions, CreateBearerApiKeyRequest
from contract_harness import Sandbox, raises_api_error


@dataclass
class PodKey:
    pod_id: str
    client: AgentMail


@pytest.fixture
def pod_key(sandbox: Sandbox) -> PodKey:
    pod_id = sandbox.client.pods.create(name="keyed").pod_id
    key = sandbox.client.pods.api_keys.create(pod_id, request=CreateBearerApiKeyRequest(name="pod key")).api_key
    return PodKey(pod_id, sandbox.sdk(key))


def test_pod_key_cannot_create_an_org_level_domain(sandbox: Sandbox, pod_key: PodKey) -> None:
    """Deleting the organisation-scope check on the org create route let a pod key register a
    domain usable by every pod (no `pod_id`)."""
    with raises_api_error(403, "forbidden"):
        pod_key.client.domains.create(domain="escalate.example")
    assert sandbox.client.domains.list().domains == []


def test_pod_key_creates_a_domain_on_its_own_pod_route(sandbox: Sandbox, pod_key: PodKey) -> None:
    """Negating `if pod is None` put the organisation-scope check on the pod route instead, so a
    pod key could no longer create its own pod's domains."""
    domain = pod_key.client.pods.domains.create(pod_key.pod_id, domain="own.example")
    assert (domain.domain_id, domain.pod_id) == ("own.example", pod_key.pod_id)
    assert [d.pod_id for d in sandbox.client.domains.list().domains] == [pod_key.pod_id]


def test_setup_link_needs_domain_read(sandbox: Sandbox) -> None:
    """Deleting the `domain_read` check of the setup-link route answered a key without that right.
    (The neighbouring read routes are in test_contract_permissions.py.)"""
    sandbox.client.domains.create(domain="linked.example")
    others = {
        f: True
        for f in ApiKeyPermissions.model_fields
        if f not in ("domain_read", "agent_armor_release", "app_connect")
    }
    key = sandbox.client.api_keys.create(request=CreateBearerApiKeyRequest(name="no-domain-read", permissions=others))
    with raises_api_error(403, "missing_permission"):
        sandbox.sdk(key.api_key).domains.get_setup_link("linked.example")
    assert sandbox.client.domains.get_setup_link("linked.example").supported is False
