"""apply, plan and drift with --shard (and the Python API's sharded plan) tell their pacer every
shard's part of the config (Pacer.share), over HTTP against the served sandbox: the shards then
ramp up together as one client would (the ramp itself is pinned on a fake clock in
tests/unit/api/test_pacing_shards.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from e2e_harness import tenants_config

from mailctl import Project
from mailctl.api.pacing import Pacer
from mailctl.plan.shards import shard_of


@pytest.fixture
def shares(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[float], int]]:
    told: list[tuple[list[float], int]] = []
    plain = Pacer.share

    def share(self: Pacer, works: Sequence[float], own: int) -> None:
        told.append((list(works), own))
        plain(self, works, own)

    monkeypatch.setattr(Pacer, "share", share)
    return told


def test_a_sharded_apply_tells_its_pacer_every_shards_part_of_the_config(mailctl, write_config, shares):
    data: dict[str, Any] = tenants_config(6)
    config = write_config(data)
    everything = mailctl.plan_json(config)["changes"]  # a fresh organisation: one create per resource
    assert shares == []  # a plan of the whole config is not sharded
    mailctl.apply(config, "--shard", "2/3")
    [(works, own)] = shares
    assert own == 1 and len(works) == 3 and sum(works) == len(everything)
    per_pod = len(everything) // len(data["pods"])  # every tenant alike, nothing at organisation level
    expected = [0, 0, 0]
    for pod in data["pods"]:
        expected[shard_of(pod, 3) - 1] += per_pod
    assert works == expected


def test_an_unsharded_apply_keeps_the_single_client_pace(mailctl, write_config, shares):
    mailctl.apply(write_config(tenants_config(2)))
    assert shares == []


def _parts(data: dict[str, Any], count: int) -> list[int]:
    """Each shard's resources, counted by hand: a tenant's domains, inboxes and keys go with its pod."""
    parts = [0] * count
    for pod, body in data["pods"].items():
        parts[shard_of(pod, count) - 1] += 1 + len(body["domains"]) + len(body["inboxes"]) + len(body["api_keys"])
    return parts


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_a_sharded_read_tells_its_pacer_every_shards_part_of_the_config(mailctl, write_config, shares, command):
    """N shards planning (or checking drift) together ramp up as one client, as their applies do."""
    data: dict[str, Any] = tenants_config(6)
    run = mailctl(command, "-f", write_config(data), "--shard", "3/3")
    assert run.exit_code in (0, 2), run.output
    assert shares == [(_parts(data, 3), 2)]


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_an_unsharded_read_keeps_the_single_client_pace(mailctl, write_config, shares, command):
    run = mailctl(command, "-f", write_config(tenants_config(2)))
    assert run.exit_code in (0, 2), run.output
    assert shares == []


def test_the_python_apis_sharded_plan_tells_its_pacer_too(sandbox, shares):
    data: dict[str, Any] = tenants_config(6)
    project = Project(config=data, endpoint=sandbox.url, api_key=sandbox.api_key)
    project.plan(shard="1/2")
    assert shares == [(_parts(data, 2), 0)]
    project.drift()
    assert len(shares) == 1  # unsharded: not told
