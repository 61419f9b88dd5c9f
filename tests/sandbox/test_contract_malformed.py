"""The malformed-request corpus (`corpus/malformed_requests.yaml`), sent with raw httpx: each
request gets a 4xx with a spec §2.1 error body and leaves every listing unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from agentmail import CreateBearerApiKeyRequest
from contract_harness import ORG_KEY, Sandbox, auth
from contract_models import decode_json, validate_error

CORPUS = yaml.safe_load((Path(__file__).parent / "corpus" / "malformed_requests.yaml").read_text())
DIRECTIONS = [(d, t) for d in ("send", "receive", "reply") for t in ("allow", "block")]


def seed(sandbox: Sandbox) -> dict[str, str]:
    """Resources a mis-parsed request could damage; their IDs fill the corpus placeholders."""
    c = sandbox.client
    pod = c.pods.create(name="seeded", client_id="seeded-pod").pod_id
    inbox = c.pods.inboxes.create(pod, username="seeded", metadata={"k": "v"}).inbox_id
    domain = c.domains.create(domain="seeded.example").domain_id
    webhook = c.webhooks.create(
        url="https://h.example/seed", event_types=["message.received"], headers={"X-Seed": "1"}
    ).webhook_id
    c.inboxes.webhooks.create(inbox, url="https://h.example/inbox", event_types=["message.sent"])
    key = c.pods.api_keys.create(pod, request=CreateBearerApiKeyRequest(name="seeded")).api_key_id
    c.lists.create("receive", "block", entry="blocked@example.com")
    c.pods.lists.create(pod, "receive", "block", entry="pod-blocked.example")
    c.inboxes.lists.create(inbox, "receive", "block", entry="inbox-blocked@example.com")
    return {"pod_id": pod, "inbox_id": inbox, "domain_id": domain, "webhook_id": webhook, "api_key_id": key}


def snapshot(sandbox: Sandbox, ids: dict[str, str]) -> dict[str, Any]:
    """Every listing (plus the seeded singletons), minus `used_at`, which reads themselves bump."""
    pod, inbox = ids["pod_id"], ids["inbox_id"]
    listings = [
        "/v0/pods",
        "/v0/inboxes",
        "/v0/domains",
        "/v0/webhooks",
        "/v0/api-keys",
        f"/v0/pods/{pod}/inboxes",
        f"/v0/pods/{pod}/domains",
        f"/v0/pods/{pod}/webhooks",
        f"/v0/pods/{pod}/api-keys",
        f"/v0/inboxes/{inbox}/webhooks",
        f"/v0/inboxes/{inbox}/api-keys",
    ]
    for direction, kind in DIRECTIONS:
        listings += [
            f"/v0/lists/{direction}/{kind}",
            f"/v0/pods/{pod}/lists/{direction}/{kind}",
            f"/v0/inboxes/{inbox}/lists/{direction}/{kind}",
        ]
    singletons = [
        "/v0/organizations",
        f"/v0/inboxes/{inbox}",
        f"/v0/domains/{ids['domain_id']}",
        f"/v0/webhooks/{ids['webhook_id']}/headers",
    ]
    state = {}
    for path in listings + singletons:
        response = sandbox.http.get(path, params={"limit": 100} if path in listings else None, headers=auth(ORG_KEY))
        state[path] = (response.status_code, _without_used_at(response.json()))
    return state


def _without_used_at(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_used_at(v) for k, v in value.items() if k != "used_at"}
    if isinstance(value, list):
        return [_without_used_at(v) for v in value]
    return value


def _fill(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, real in ids.items():
            value = value.replace("{" + name + "}", real)
        return value
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    return value


def build_request(case: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    headers = dict(case.get("headers", {}))
    auth = case.get("auth", "org")
    if auth == "org":
        headers["Authorization"] = f"Bearer {ORG_KEY}"
    elif auth != "none":
        headers["Authorization"] = auth
    content: bytes | None = None
    if "json" in case:
        content = json.dumps(_fill(case["json"], ids)).encode()
    elif "body" in case:
        content = case["body"].encode(case.get("encoding", "utf-8"))
    elif "big" in case:
        big = case["big"]
        content = (big["prefix"] + big["fill"] * big["size"] + big["suffix"]).encode()
    if content is not None:
        headers.setdefault("Content-Type", "application/json")
    return {"method": case["method"], "url": _fill(case["path"], ids), "headers": headers, "content": content}


@pytest.mark.parametrize("case", CORPUS, ids=[case["name"] for case in CORPUS])
def test_malformed_request_is_a_clean_4xx_and_changes_nothing(sandbox: Sandbox, case: dict[str, Any]) -> None:
    ids = seed(sandbox)
    before = snapshot(sandbox, ids)
    response = sandbox.http.request(**build_request(case, ids))
    status = response.status_code
    assert 400 <= status < 500, f"{case['name']}: expected a 4xx, got {status}"
    if "status" in case:
        assert status == case["status"], f"{case['name']}: expected {case['status']}, got {status}"
    assert response.headers.get("content-type", "").startswith("application/json")
    problems = validate_error(status, decode_json(response.content))
    assert not problems, f"{case['name']}: error body: " + "; ".join(map(str, problems))
    assert snapshot(sandbox, ids) == before, f"{case['name']}: the request changed the store"
