"""A targeted plan reads what its target needs (issue 19 point 1), over HTTP, counted by the
sandbox's stats: one tenant of a fleet costs ceil(pods/100) + 15 requests at most, and its plan
is exactly that tenant's part of the full plan (an undeclared inbox deleted, an inbox moved in
from another pod, an update, a create; a ``manage.pods`` pod deleted when targeted), whether the
state comes from the organisation lists or from the pod's own routes (a big fleet's way)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from e2e_harness import actions, tenants_config

from mailctl.api.client import AgentMailClient
from mailctl.api.pod_reads import PodsRead
from mailctl.api.reader import StateReader
from mailctl.config import load
from mailctl.ops.planning import make_plan, narrowed_read
from mailctl.resources import ActualState, DesiredState

PODS = 250  # most pods' own routes cost less than the organisation lists (3 pages each); TARGET's do not
TARGET = "t042"
LEFT_ALONE = "t100"


def _inbox(name: str) -> str:
    return f"{name}@agentmail.to"


def _seed(client: AgentMailClient) -> None:
    """The fleet, made directly: each pod with its inbox, t042 with an inbox the config does not
    declare, t100 with one the config declares in t042, and an old pod matching manage.pods."""
    layout: dict[str, list[str]] = {f"t{i:03d}": [f"t{i:03d}"] for i in range(PODS)}
    layout[TARGET].append("extra")
    layout[LEFT_ALONE].append("moving")
    layout["old-1"] = ["old-1"]

    def make(pod: str) -> None:
        made = client.post("/v0/pods", {"client_id": pod, "name": pod.upper()}, idempotent=True)
        for username in layout[pod]:
            client.post(
                f"/v0/pods/{made['pod_id']}/inboxes",
                {"username": username, "domain": "agentmail.to", "client_id": f"seed-{username}"},
                idempotent=True,
            )

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(make, layout))


def _config() -> dict[str, Any]:
    pods: dict[str, Any] = {
        f"t{i:03d}": {"name": f"T{i:03d}", "inboxes": {_inbox(f"t{i:03d}"): {}}} for i in range(PODS)
    }
    pods[TARGET]["inboxes"] = {
        _inbox(TARGET): {"display_name": "Changed"},
        _inbox("moving"): {},
        _inbox("new"): {},
    }
    return {"version": 1, "manage": {"pods": {"client_id_prefix": "old-"}}, "pods": pods}


# What a plan targeted at TARGET does, however it reads the state.
TARGET_CHANGES = {
    f"pod/{TARGET}/inbox/{_inbox(TARGET)}": "update",
    f"pod/{TARGET}/inbox/{_inbox('new')}": "create",
    f"pod/{TARGET}/inbox/{_inbox('moving')}": "create",  # moved in from t100: delete there first
    f"pod/{LEFT_ALONE}/inbox/{_inbox('moving')}": "delete",
    f"pod/{TARGET}/inbox/{_inbox('extra')}": "delete",  # undeclared in a targeted pod
}


def _budget(sandbox: Any) -> int:
    """ceil(pods/100) + 15, the pods counted as the API lists them (the sandbox's own pod too)."""
    with AgentMailClient(sandbox.url, sandbox.api_key) as client:
        pods = len(client.list_all("/v0/pods", "pods"))
    return math.ceil(pods / 100) + 15


def _requests(sandbox: Any) -> int:
    routes: dict[str, int] = sandbox.stats()["by_route"]
    return sum(n for route, n in routes.items() if route.split(" ", 1)[1].startswith("/v0"))


@pytest.fixture
def fleet(sandbox, write_config):
    with AgentMailClient(sandbox.url, sandbox.api_key) as client:
        _seed(client)
    return write_config(_config())


def _counted_plan(sandbox, mailctl, config, *args: str) -> tuple[dict[str, str], int]:
    before = _requests(sandbox)
    run = mailctl("plan", "-f", config, "--format", "json", "--detailed-exitcode", *args)
    assert run.exit_code == 2, run.output
    return actions(run.json()), _requests(sandbox) - before


def test_one_tenant_of_a_fleet_costs_its_pods_pages_plus_fifteen_and_plans_exactly_its_changes(sandbox, mailctl, fleet):
    targeted, cost = _counted_plan(sandbox, mailctl, fleet, "--target", f"pod/{TARGET}")
    full, full_cost = _counted_plan(sandbox, mailctl, fleet)

    assert cost <= _budget(sandbox), cost
    assert cost < full_cost
    assert targeted == TARGET_CHANGES
    # The full plan sees everything: the same changes, and the old pod manage.pods selects.
    assert full == {**TARGET_CHANGES, "pod/old-1": "delete", f"pod/old-1/inbox/{_inbox('old-1')}": "delete"}


def test_a_targeted_undeclared_pod_that_manage_selects_is_deleted_with_what_it_holds(sandbox, mailctl, fleet):
    targeted, cost = _counted_plan(sandbox, mailctl, fleet, "--target", "pod/old-1")
    assert targeted == {"pod/old-1": "delete", f"pod/old-1/inbox/{_inbox('old-1')}": "delete"}
    assert cost <= _budget(sandbox), cost


def _routes(sandbox: Any) -> dict[str, int]:
    return dict(sandbox.stats()["by_route"])


def test_a_target_on_the_organisation_level_reads_the_organisation_lists(sandbox, mailctl, fleet):
    before = _routes(sandbox)
    _counted_plan(sandbox, mailctl, fleet, "--target", "pod/old-1", "--target", "api_key/*")
    after = _routes(sandbox)
    read = {route for route, n in after.items() if n > before.get(route, 0)}
    assert {"GET /v0/inboxes", "GET /v0/api-keys", "GET /v0/webhooks", "GET /v0/domains"} <= read
    assert not [r for r in read if r.startswith("GET /v0/pods/")]  # no pod read one by one


def _rich_config() -> dict[str, Any]:
    """Every kind at every scope of two tenants, and an organisation domain one tenant's inbox is on."""
    config = tenants_config(2, prefix="rr-")
    config["domains"] = {"org.mail.test": {}}
    for name, pod in config["pods"].items():
        bot = f"{name}-bot@agentmail.to"
        pod["inboxes"][bot] = {
            "api_keys": {"agent": {}},
            "webhooks": {"bot-events": {"url": "https://h.example/bot", "event_types": ["message.received"]}},
            "lists": {"receive": {"block": ["spam.example"]}},
        }
        pod["inboxes"][f"{name}@org.mail.test"] = {}
        pod["webhooks"] = {"events": {"url": "https://h.example/pod", "event_types": ["message.sent"]}}
        pod["lists"] = {"send": {"allow": ["partner.example"]}}
    return config


def _in_pod(state: ActualState, pod: str) -> dict[str, Any]:
    return {a: (r.attrs, r.remote_id, r.parent, r.observed) for a, r in state.resources.items() if a.startswith(pod)}


def test_a_pod_read_on_its_own_routes_is_the_same_state_as_in_the_organisation_lists(sandbox, mailctl, write_config):
    config = _rich_config()
    mailctl.apply(write_config(config))
    desired = load([str(write_config(config))])
    narrowed = narrowed_read(desired, ["pod/rr-001"], None)
    assert narrowed is not None and narrowed.domains  # the pod declares a domain
    forced = replace(narrowed, cheaper=lambda taken, listed: True)  # two pods: lists would be cheaper
    with AgentMailClient(sandbox.url, sandbox.api_key) as client:
        whole = StateReader(client).read(desired)
        before = dict(sandbox.stats()["by_route"])
        part = StateReader(client).read(desired, forced)
        routes = {r for r, n in sandbox.stats()["by_route"].items() if n > before.get(r, 0)}
    assert _in_pod(part, "pod/rr-001") == _in_pod(whole, "pod/rr-001")
    assert len(_in_pod(part, "pod/rr-001")) > 12  # keys, webhooks, lists at pod and inbox scope
    # The other pod is listed; of what it holds only its domain is seen (domains are read
    # organisation-wide when the taken pod declares one: a domain name is unique there).
    assert [a.split("/")[2] for a in _in_pod(part, "pod/rr-000/")] == ["domain"]
    assert "GET /v0/inboxes" not in routes and "GET /v0/api-keys" not in routes


class _PodByPod(StateReader):
    """Reads a narrowed plan's pods on their own routes, as in a fleet of thousands of pods (here,
    with 250, TARGET's three declared inboxes make the organisation lists cheaper)."""

    def read(self, desired: DesiredState, narrowed: PodsRead | None = None) -> ActualState:
        forced = None if narrowed is None else replace(narrowed, cheaper=lambda taken, listed: True)
        return super().read(desired, forced)


def test_read_pod_by_pod_a_declared_inbox_another_pod_holds_is_found_by_its_address(sandbox, fleet):
    """The targeted plan read on the pod's own routes is the same plan: the inbox TARGET declares
    and t100 holds is found by GET /v0/inboxes/{address} and moved (deleted there, created here),
    and nothing is listed organisation-wide but the pods."""
    desired = load([str(fleet)])
    with AgentMailClient(sandbox.url, sandbox.api_key) as client:
        before = _routes(sandbox)
        planned = make_plan(client, desired, [f"pod/{TARGET}"], reader=_PodByPod(client))
    read = {route: n - before.get(route, 0) for route, n in _routes(sandbox).items() if n > before.get(route, 0)}
    assert {c.address: c.action for c in planned.plan.changes} == TARGET_CHANGES
    assert read["GET /v0/inboxes/{inbox_id}"] == 2  # moving (in t100) and new (nowhere yet)
    assert "GET /v0/pods/{pod_id}/inboxes" in read
    assert "GET /v0/inboxes" not in read and "GET /v0/api-keys" not in read
