"""The workflows besides plan read what they act on, as a targeted plan does (issue 19 point 1),
over HTTP, counted by the sandbox's stats, in a fleet of 250 tenants: an apply lists the pods
once (the lock's look for shard locks is the plan's pod listing), and rotating one tenant's key or
asking for one domain's records costs about a pod listing and a few requests, not the
organisation's lists. Each still does exactly what it did."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mailctl.api.client import AgentMailClient

PODS = 250  # every organisation-wide list is 3 pages
TARGET = "w042"
KEY = f"pod/{TARGET}/api_key/backend"
HOOK = f"pod/{TARGET}/webhook/events"
DOMAIN = f"{TARGET}.mail.test"


def _config() -> dict[str, Any]:
    pods: dict[str, Any] = {
        f"w{i:03d}": {
            "name": f"W{i:03d}",
            "inboxes": {f"w{i:03d}@agentmail.to": {}},
            "api_keys": {"backend": {}},
        }
        for i in range(PODS)
    }
    pods[TARGET]["domains"] = {DOMAIN: {}}
    pods[TARGET]["webhooks"] = {
        "events": {
            "url": "https://hooks.example/w042",
            "event_types": ["message.received"],
            "headers": {"X-Token": "first"},
        }
    }
    return {"version": 1, "pods": pods}


def _seed(client: AgentMailClient) -> None:
    """Every tenant but the target, made directly (quicker than an apply): pod, inbox, pod key."""

    def make(pod: str) -> None:
        made = client.post("/v0/pods", {"client_id": pod, "name": pod.upper()}, idempotent=True)
        path = f"/v0/pods/{made['pod_id']}"
        client.post(f"{path}/inboxes", {"username": pod, "domain": "agentmail.to", "client_id": pod}, idempotent=True)
        client.post(f"{path}/api-keys", {"name": "backend"})

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(make, [f"w{i:03d}" for i in range(PODS) if f"w{i:03d}" != TARGET]))


def _routes(sandbox: Any) -> dict[str, int]:
    return dict(sandbox.stats()["by_route"])


@pytest.fixture
def fleet(sandbox, mailctl, write_config):
    with AgentMailClient(sandbox.url, sandbox.api_key) as client:
        _seed(client)
    config = write_config(_config())
    applied = mailctl("apply", "-f", config, "--auto-approve", "--target", f"pod/{TARGET}", "--secrets-out", "s.json")
    assert applied.exit_code == 0, applied.output
    return config


# A listing of the pods: its pages (the sandbox's own pod and a lock are listed too), and one more
# where it is read from both ends at once. A workflow that takes the lock lists them once, for the
# lock and its read, and a dozen requests more: the lock pod made and deleted, the pod's and its
# inbox's lists, the domains, the change itself.
POD_LISTING = math.ceil((PODS + 2) / 100) + 1
ORGANISATION_LISTS = {"GET /v0/inboxes", "GET /v0/api-keys", "GET /v0/webhooks"}


def _counted(sandbox, mailctl, *args: str) -> tuple[Any, int, set[str]]:
    """The run, its requests, and the routes it read the organisation-wide lists of."""
    before = _routes(sandbox)
    run = mailctl(*args)
    after = _routes(sandbox)
    grown = {route: n - before.get(route, 0) for route, n in after.items() if n > before.get(route, 0)}
    requests = sum(n for route, n in grown.items() if route.split(" ", 1)[1].startswith("/v0"))
    return run, requests, set(grown) & ORGANISATION_LISTS


def _key_ids(sandbox) -> set[str]:
    with AgentMailClient(sandbox.url, sandbox.api_key) as client:
        [pod] = [p for p in client.list_all("/v0/pods", "pods") if p.get("client_id") == TARGET]
        keys = client.list_all(f"/v0/pods/{pod['pod_id']}/api-keys", "api_keys")
    return {k["api_key_id"] for k in keys if k["name"] == "backend"}


def test_an_apply_lists_the_pods_once_with_its_lock(sandbox, mailctl, fleet, write_config):
    config = _config()
    config["pods"][TARGET]["inboxes"]["w042-new@agentmail.to"] = {}
    edited = write_config(config)
    before = _routes(sandbox)
    applied = mailctl("apply", "-f", edited, "--auto-approve", "--target", f"pod/{TARGET}")
    assert applied.exit_code == 0, applied.output
    assert "Apply complete! 1 done, 0 failed" in applied.output
    listed = _routes(sandbox)["GET /v0/pods"] - before["GET /v0/pods"]
    assert listed <= POD_LISTING, listed  # not once for the lock and again for the plan

    again = mailctl("apply", "-f", edited, "--auto-approve")
    assert again.exit_code == 0 and "No changes" in again.output, again.output
    assert _routes(sandbox)["GET /v0/pods"] - before["GET /v0/pods"] <= listed + POD_LISTING  # a whole apply too


def test_rotating_one_tenants_key_reads_that_tenant_and_rotates_it(sandbox, mailctl, fleet):
    [old] = _key_ids(sandbox)
    rotated, cost, listed = _counted(sandbox, mailctl, "rotate", KEY, "-f", fleet, "--secrets-out", "new.json")
    assert rotated.exit_code == 0, rotated.output
    assert not listed and cost <= POD_LISTING + 12, (listed, cost)
    assert len(_key_ids(sandbox)) == 2 and old in _key_ids(sandbox)  # the old key kept until retired

    retired, cost, listed = _counted(sandbox, mailctl, "rotate", KEY, "-f", fleet, "--retire-old")
    assert retired.exit_code == 0, retired.output
    assert not listed and cost <= POD_LISTING + 12, (listed, cost)
    [new] = _key_ids(sandbox)
    assert new != old


def test_pushing_one_webhooks_headers_reads_that_tenant(sandbox, mailctl, fleet):
    pushed, cost, listed = _counted(sandbox, mailctl, "rotate", HOOK, "-f", fleet)
    assert pushed.exit_code == 0, pushed.output
    assert not listed and cost <= POD_LISTING + 12, (listed, cost)


def test_one_domains_records_read_that_domain_not_the_fleet(sandbox, mailctl, fleet):
    shown, cost, listed = _counted(sandbox, mailctl, "dns", "-f", fleet, DOMAIN)
    assert shown.exit_code == 0, shown.output
    assert f"{DOMAIN} (pod/{TARGET}/domain/{DOMAIN}): VERIFIED" in shown.stdout
    assert not listed and cost <= POD_LISTING + 10, (listed, cost)  # no lock: dns only reads
