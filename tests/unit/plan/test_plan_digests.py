"""What an approved plan's freshness covers (``plan.digests``): a narrowed plan its own part, and
everything that part depends on."""

from __future__ import annotations

from mailctl.plan.digests import depended_on, state_digests
from mailctl.plan.shards import Shard
from mailctl.resources import DOMAIN, INBOX, POD, WEBHOOK, ActualState, DesiredState, Resource


def _desired() -> DesiredState:
    desired = DesiredState()
    for pod in ("a", "b"):
        desired.add(Resource(POD, f"pod/{pod}", {"name": pod}))
        desired.add(Resource(INBOX, f"pod/{pod}/inbox/{pod}@agentmail.to", {}, parent=f"pod/{pod}"))
    desired.add(Resource(DOMAIN, "domain/shared.test", {}))
    return desired


def _actual(*pods: str) -> ActualState:
    actual = ActualState()
    actual.add(Resource(DOMAIN, "domain/shared.test", {}, remote_id="d"))
    for pod in pods:
        actual.add(Resource(POD, f"pod/{pod}", {"name": pod}, remote_id=f"id-{pod}"))
        actual.add(Resource(INBOX, f"pod/{pod}/inbox/{pod}@agentmail.to", {}, parent=f"pod/{pod}", remote_id=pod))
    return actual


def _digested(desired: DesiredState, targets: list[str], changed: list[str], shard: Shard | None = None) -> set[str]:
    return set(state_digests(_actual("a", "b", "other"), depended_on(desired, targets, shard, changed)))


def test_a_whole_plan_depends_on_everything_it_read():
    assert depended_on(_desired(), [], None, []) is None
    assert len(_digested(_desired(), [], [])) == 7


def test_a_targeted_plan_depends_on_its_pods_and_the_organisation_level_not_on_other_pods():
    assert _digested(_desired(), ["pod/a"], ["pod/a"]) == {
        "domain/shared.test",
        "pod/a",
        "pod/a/inbox/a@agentmail.to",
    }


def test_a_glob_target_depends_on_every_pod_it_could_delete_or_change():
    assert {"pod/other", "pod/other/inbox/other@agentmail.to", "pod/a", "pod/b"} <= _digested(_desired(), ["pod/*"], [])


def test_a_targeted_plan_depends_on_the_pods_its_changes_are_in_and_name():
    """An inbox moved out of another pod (its delete is a change there); an organisation webhook
    that names a pod and an inbox of other pods."""
    desired = _desired()
    moved = _digested(desired, ["pod/a"], ["pod/a", "pod/other/inbox/a@agentmail.to"])
    assert "pod/other" in moved and "pod/b" not in moved
    desired.add(Resource(WEBHOOK, "webhook/events", {"pods": ["b"], "inboxes": ["b@agentmail.to"]}))
    named = _digested(desired, ["webhook/events"], ["webhook/events"])
    assert {"pod/b", "pod/b/inbox/b@agentmail.to", "domain/shared.test"} <= named and "pod/other" not in named


def test_a_shard_depends_on_its_own_part_only():
    parts = {k: _digested(_desired(), [], [], Shard(k, 3)) for k in (1, 2, 3)}
    for k, digested in parts.items():
        assert all(Shard(k, 3).owns(a) for a in digested)
    assert set().union(*parts.values()) == _digested(_desired(), [], [])
    assert "domain/shared.test" in parts[1]
