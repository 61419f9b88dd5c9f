"""Issue 10, isolation: every control route (`/_sandbox/...`) x {own org key, other org key,
restricted org key, pod key, inbox key, no key}. Only an unrestricted organisation-level key
may drive the sandbox, and only its own organisation: knobs, stats, scripted faults, reset and
DNS fixtures are per organisation, so another organisation's key never reaches this one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from agentmail import ApiKeyPermissions, CreateBearerApiKeyRequest
from contract_harness import ORG_KEY, Sandbox, auth

DOMAIN = "isolated.example"
# (method, path under /_sandbox/, body): every control route, with a body that would change state
CONTROL: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "stats", None),
    ("GET", "config", None),
    ("PATCH", "config", {"page_size": 1, "fault_rate": 1.0, "fault_mode": "before", "latency_ms": 0}),
    (
        "POST",
        "faults",
        {"method": "GET", "route": "/v0/pods", "status": 503, "code": "service_unavailable", "times": 5},
    ),
    ("DELETE", "faults", None),
    ("GET", "deliveries", None),
    ("POST", f"domains/{DOMAIN}/dns", {"status": "FAILED", "reason": "ses_dkim_failed"}),
    ("POST", "organizations", None),
    ("POST", "reset", None),
]


def _control_routes() -> set[tuple[str, str]]:
    from mailctl.sandbox.routes import ROUTES

    return {(r.method, r.pattern) for r in ROUTES if r.pattern.startswith("/_sandbox/")}


def test_the_matrix_covers_every_control_route() -> None:
    covered = {(m, "/_sandbox/" + p.replace(DOMAIN, "{domain_id}")) for m, p, _ in CONTROL}
    assert covered == _control_routes()


def _call(sandbox: Sandbox, key: str | None, method: str, path: str, body: dict[str, Any] | None) -> httpx.Response:
    headers = auth(key) if key else {}
    return sandbox.http.request(method, f"/_sandbox/{path}", headers=headers, json=body)


def _org_a_state(sandbox: Sandbox) -> dict[str, Any]:
    """What org A (the root key's) looks like, read without touching its stats."""
    pods = sandbox.http.get("/v0/pods", headers=auth(ORG_KEY)).json()
    domain = sandbox.http.get(f"/v0/domains/{DOMAIN}", headers=auth(ORG_KEY)).json()
    config = sandbox.http.get("/_sandbox/config", headers=auth(ORG_KEY)).json()
    return {
        "pods": sorted(p["name"] for p in pods["pods"]),
        "page": pods["count"],
        "domain": (domain["status"], domain.get("reason")),
        "config": config,
    }


@pytest.fixture
def org_a(sandbox: Sandbox) -> dict[str, str]:
    """Org A with a pod, an inbox, a domain and one key of each kind that must be refused."""
    client = sandbox.client
    pod = client.pods.create(name="keep-me")
    inbox = client.pods.inboxes.create(pod.pod_id, username="keeper")
    client.domains.create(domain=DOMAIN)
    restricted = client.api_keys.create(
        request=CreateBearerApiKeyRequest(name="reader", permissions=ApiKeyPermissions(inbox_read=True))
    )
    pod_key = client.pods.api_keys.create(pod.pod_id, request=CreateBearerApiKeyRequest(name="pod"))
    inbox_key = client.inboxes.api_keys.create(inbox.inbox_id, request=CreateBearerApiKeyRequest(name="inbox"))
    other = sandbox.new_organization()
    return {"restricted": restricted.api_key, "pod": pod_key.api_key, "inbox": inbox_key.api_key, "other": other}


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("restricted", 403, "forbidden"),
        ("pod", 403, "forbidden"),
        ("inbox", 403, "forbidden"),
        (None, 401, "missing_authorization"),
    ],
)
def test_keys_that_are_not_unrestricted_org_keys_are_refused_everywhere(
    sandbox: Sandbox, org_a: dict[str, str], kind: str | None, status: int, code: str
) -> None:
    before = _org_a_state(sandbox)
    stats_before = sandbox.control("GET", "stats").json()["total"]
    for method, path, body in CONTROL:
        response = _call(sandbox, org_a[kind] if kind else None, method, path, body)
        assert (response.status_code, response.json()["code"]) == (status, code), f"{method} /_sandbox/{path}"
    assert _org_a_state(sandbox) == before
    assert sandbox.control("GET", "stats").json()["total"] > stats_before  # not reset


def test_another_organisations_key_only_ever_reaches_its_own_organisation(
    sandbox: Sandbox, org_a: dict[str, str]
) -> None:
    before = _org_a_state(sandbox)
    for method, path, body in CONTROL:
        response = _call(sandbox, org_a["other"], method, path, body)
        if path.startswith("domains/"):  # org A's DNS fixture: not found, as any foreign resource
            assert (response.status_code, response.json()["code"]) == (404, "not_found")
        else:
            assert response.is_success, f"{method} /_sandbox/{path}: {response.status_code} {response.text}"
    # org B armed a fault, raised its fault rate, shrank its page size and reset itself: org A
    # still lists (no fault, its own page size) and writes, and its stats never saw org B
    assert _org_a_state(sandbox) == before
    assert sandbox.client.pods.create(name="still-writable").name == "still-writable"
    routes = sandbox.control("GET", "stats").json()["by_route"]
    assert not {"POST /_sandbox/faults", "DELETE /_sandbox/faults", "PATCH /_sandbox/config"} & set(routes)
    assert routes["POST /_sandbox/reset"] == 1  # org A's own, before the test


def test_the_own_organisations_key_drives_its_organisation(sandbox: Sandbox, org_a: dict[str, str]) -> None:
    for method, path, body in CONTROL:
        response = _call(sandbox, ORG_KEY, method, path, body)
        assert response.is_success, f"{method} /_sandbox/{path}: {response.status_code} {response.text}"
        if path == "config" and method == "PATCH":
            sandbox.control("PATCH", "config", json={"page_size": 50, "fault_rate": 0})
    assert [p.name for p in sandbox.client.pods.list().pods] == ["Default Pod"]  # reset, last
    assert sandbox.client.auth.me().scope_type == "organization"  # the bootstrap key survives it


def test_a_reset_leaves_other_organisations_alone(sandbox: Sandbox) -> None:
    other = sandbox.sdk(sandbox.new_organization())
    other.pods.create(name="theirs")
    sandbox.reset()
    assert sorted(p.name for p in other.pods.list().pods) == ["Default Pod", "theirs"]
