"""``unlock`` after a killed ``--shard`` apply removes everything that shard left (issue 17 point 7):
a shard apply takes its shard lock, then probes the organisation lock by taking and releasing it;
killed at the probe, it leaves both lock pods. ``unlock --shard K/N`` used to remove only the
shard lock, leaving the organisation lock (named as the probe) to block every unsharded apply."""

from __future__ import annotations

import pytest
from e2e_harness import tenants_config

from mailctl.api.lock import LOCK_CLIENT_ID, PROBE_SUFFIX, shard_lock_id

# A holder that died on another host: unlock can remove its locks without --force.
DEAD = "mailctl lock ci@elsewhere pid 4242 since 2026-01-01T00:00:00Z [0badf00d]"


def _lock_pods(sandbox) -> list[str]:
    return sorted(p.client_id for p in sandbox.sdk().pods.list().pods if (p.client_id or "").startswith(LOCK_CLIENT_ID))


def _killed_at_the_probe(sandbox, index: int, count: int, holder: str = DEAD) -> None:
    """What a shard apply SIGKILLed during its probe leaves: its shard lock and the probe."""
    sdk = sandbox.sdk()
    sdk.pods.create(client_id=shard_lock_id(index, count), name=holder)
    sdk.pods.create(client_id=LOCK_CLIENT_ID, name=holder + PROBE_SUFFIX)


@pytest.mark.parametrize("args", [["--shard", "2/3"], []], ids=["unlock --shard", "unlock"])
def test_unlock_after_a_shard_killed_at_its_probe_leaves_no_lock_and_applies_work(
    mailctl, sandbox, write_config, args: list[str]
) -> None:
    config = write_config(tenants_config(6))
    _killed_at_the_probe(sandbox, 2, 3)
    assert _lock_pods(sandbox) == [LOCK_CLIENT_ID, shard_lock_id(2, 3)]

    released = mailctl("unlock", *args)
    assert released.exit_code == 0, released.output
    assert "the lock of shard 2/3" in released.stdout and "the apply lock" in released.stdout
    assert _lock_pods(sandbox) == []

    for shard in ("1/3", "2/3", "3/3"):
        mailctl.apply(config, "--shard", shard)
    mailctl.apply(config)  # the whole config: the organisation lock is free too
    assert _lock_pods(sandbox) == []


def test_unlock_shard_leaves_another_shards_locks_alone(mailctl, sandbox) -> None:
    _killed_at_the_probe(sandbox, 2, 3)
    other = DEAD.replace("0badf00d", "0ddba11a")
    sandbox.sdk().pods.create(client_id=shard_lock_id(3, 3), name=other)
    released = mailctl("unlock", "--shard", "2/3")
    assert released.exit_code == 0, released.output
    assert _lock_pods(sandbox) == [shard_lock_id(3, 3)]
