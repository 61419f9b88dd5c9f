"""--shard K/N: a stable, total partition of the pods; organisation resources only in shard 1."""

from __future__ import annotations

import hashlib

import pytest

from mailctl.errors import UsageError
from mailctl.plan.changes import CREATE, DELETE, Change, Plan
from mailctl.plan.shards import Shard, select, shard_of
from mailctl.resources import (
    DOMAIN,
    INBOX,
    POD,
    WEBHOOK,
    Resource,
    api_key_address,
    domain_address,
    inbox_address,
    pod_address,
    webhook_address,
)

PODS = [f"tenant-{n}" for n in range(2000)]


def test_every_pod_is_in_exactly_one_shard_for_any_count():
    for count in (1, 2, 3, 4, 7, 16):
        owners = {pod: [k for k in range(1, count + 1) if Shard(k, count).owns(pod_address(pod))] for pod in PODS}
        assert all(len(shards) == 1 for shards in owners.values())


def test_the_partition_is_the_sha256_of_the_client_id_so_every_machine_agrees():
    expected = int.from_bytes(hashlib.sha256(b"tenant-42").digest()[:8], "big") % 4 + 1
    assert shard_of("tenant-42", 4) == expected
    assert [shard_of(p, 4) for p in PODS[:50]] == [shard_of(p, 4) for p in PODS[:50]]


def test_shards_are_roughly_even():
    sizes = [sum(1 for p in PODS if shard_of(p, 4) == k) for k in range(1, 5)]
    assert min(sizes) > 400 and sum(sizes) == len(PODS)


def test_everything_in_a_pod_follows_its_pod():
    pod = "tenant-7"
    shard = Shard(shard_of(pod, 5), 5)
    for address in (
        pod_address(pod),
        inbox_address(pod, "a@x.com"),
        domain_address("x.com", pod=pod),
        api_key_address("k", pod=pod),
        api_key_address("k", pod=pod, inbox="a@x.com"),
        webhook_address("w", pod=pod),
    ):
        assert shard.owns(address)
        assert not Shard(shard.index % 5 + 1, 5).owns(address)


def test_organisation_resources_belong_to_shard_1_only():
    for address in (
        domain_address("org.example"),
        api_key_address("ci"),
        webhook_address("audit"),
        "list/send/allow/partner.example",
    ):
        assert Shard(1, 3).owns(address)
        assert not Shard(2, 3).owns(address) and not Shard(3, 3).owns(address)


def _plan() -> Plan:
    org_domain = Resource(DOMAIN, domain_address("org.example"), {})
    changes = [Change(CREATE, org_domain.address, desired=org_domain)]
    for pod in PODS[:40]:
        changes.append(Change(CREATE, pod_address(pod), desired=Resource(POD, pod_address(pod), {"name": pod})))
        inbox = inbox_address(pod, f"a@{pod}.example")
        changes.append(Change(CREATE, inbox, desired=Resource(INBOX, inbox, {}, parent=pod_address(pod))))
    return Plan(changes=changes, unmanaged=[pod_address("stranger"), api_key_address("old")])


def test_selecting_the_n_shards_splits_a_plan_without_loss_or_overlap():
    plan = _plan()
    parts = [select(plan, Shard(k, 3)) for k in (1, 2, 3)]
    addresses = [c.address for part in parts for c in part.changes]
    assert sorted(addresses) == sorted(c.address for c in plan.changes)
    assert domain_address("org.example") in {c.address for c in parts[0].changes}
    assert api_key_address("old") in parts[0].unmanaged and api_key_address("old") not in parts[1].unmanaged


def test_a_change_that_needs_another_shard_is_noted():
    pod = next(p for p in PODS if shard_of(p, 2) == 2)  # the org webhook is in shard 1, its pod in 2
    hook = webhook_address("audit")
    plan = Plan(
        changes=[
            Change(CREATE, pod_address(pod), desired=Resource(POD, pod_address(pod), {"name": pod})),
            Change(CREATE, hook, desired=Resource(WEBHOOK, hook, {"url": "https://x", "pods": [pod]})),
        ]
    )
    notes = select(plan, Shard(1, 2)).notes
    assert any(hook in n and pod_address(pod) in n and "shard 2/2" in n for n in notes)
    assert [c.address for c in select(plan, Shard(1, 2)).changes] == [hook]


def test_managed_count_counts_only_the_shard_when_the_state_is_given():
    plan = Plan(managed_count=100)
    existing = [pod_address(p) for p in PODS[:100]]
    counts = [select(plan, Shard(k, 4), existing).managed_count for k in (1, 2, 3, 4)]
    assert sum(counts) == 100 and max(counts) < 100


@pytest.mark.parametrize("text", ["0/4", "5/4", "1/0", "a/b", "2", "", "1/4/2", "-1/4"])
def test_bad_shard_specs_are_usage_errors(text):
    with pytest.raises(UsageError) as caught:
        Shard.parse(text)
    assert "--shard" in str(caught.value)


def test_shard_specs_parse():
    assert Shard.parse("2/4") == Shard(2, 4) and str(Shard.parse(" 1 / 1 ")) == "1/1"


def test_a_shard_notes_exactly_its_own_changes_waits_for_other_shards():
    """Shard 1's webhook waits for shard 2's pod (awaited: shard 1 polls for it) and shard 1's new
    inbox for shard 2's delete of that address (noted: re-run); waits inside a shard are not noted,
    nor are other shards' waits."""
    one = next(p for p in PODS if shard_of(p, 2) == 1)
    two = next(p for p in PODS if shard_of(p, 2) == 2)
    hook = webhook_address("audit")
    moved_to, moved_from = inbox_address(one, "a@x.example"), inbox_address(two, "a@x.example")

    def create(resource: Resource) -> Change:
        return Change(CREATE, resource.address, desired=resource)

    plan = Plan(
        changes=[
            create(Resource(POD, pod_address(one), {"name": one})),
            create(Resource(INBOX, moved_to, {}, parent=pod_address(one))),  # waits for its pod: same shard
            Change(DELETE, moved_from, actual=Resource(INBOX, moved_from, {}, parent=pod_address(two))),
            create(Resource(POD, pod_address(two), {"name": two})),
            create(Resource(WEBHOOK, hook, {"url": "https://x", "pods": [two]})),
        ]
    )
    first, second = select(plan, Shard(1, 2)), select(plan, Shard(2, 2))
    assert sorted(first.notes) == sorted(
        [
            f"{hook} waits for {pod_address(two)}, which shard 2/2 creates",
            f"{moved_to} waits for the delete of {moved_from} (shard 2/2): if it fails, re-run this "
            "shard once that shard has applied",
        ]
    )
    assert [(c.address, c.owner) for c in first.awaited] == [(pod_address(two), "2/2")]
    assert second.notes == [] and second.awaited == []
