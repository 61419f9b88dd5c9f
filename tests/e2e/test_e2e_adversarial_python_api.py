"""An adversarial run against the Python API (``from mailctl import Project``), over HTTP: what
its documentation promises, tried the way application code would use it."""

from __future__ import annotations

from mailctl import Project
from mailctl.plan.shards import Shard


def test_a_sharded_plan_applies_exactly_its_shard(sandbox):
    """``Project.plan(shard="K/N")`` then ``apply(plan)``: the shard's pods are created and no
    other's (it was refused as stale for ever: apply re-planned the whole config)."""
    config = {"version": 1, "pods": {f"py-shard-{i}": {"name": f"Shard {i}"} for i in range(8)}}
    project = Project(config=config, endpoint=sandbox.url, api_key=sandbox.api_key)
    plan = project.plan(shard="1/2")
    mine = {f"pod/{p}" for p in config["pods"] if Shard.parse("1/2").owns(f"pod/{p}")}
    assert {c.address for c in plan.changes} == mine and 0 < len(mine) < 8
    report = project.apply(plan)
    assert report.ok and {r.address for r in report.done} == mine
    pods = {p.client_id for p in sandbox.sdk().pods.list(limit=100).pods if p.client_id}
    assert {f"pod/{p}" for p in pods if p.startswith("py-shard-")} == mine
    assert not project.plan(shard="1/2").has_changes
