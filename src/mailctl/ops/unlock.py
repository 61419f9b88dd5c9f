"""The unlock workflow: find the apply locks a killed run left, and release them."""

from __future__ import annotations

from dataclasses import dataclass

from mailctl.api import lock
from mailctl.api.client import AgentMailClient
from mailctl.plan.shards import Shard


@dataclass(frozen=True)
class HeldLock:
    pod_id: str
    client_id: str
    holder: lock.Holder

    @property
    def shard(self) -> str | None:
        """``K/N`` of a shard's lock, else None (the organisation lock, or a shard's probe of it)."""
        return lock.shard_of_lock(self.client_id)

    @property
    def what(self) -> str:
        """``the apply lock`` (the organisation's) or ``the lock of shard 2/4``."""
        what = lock.describe_lock(self.client_id)
        return "the apply lock" if what == "the organisation lock" else what


def held_locks(client: AgentMailClient, shard: Shard | None = None) -> list[HeldLock]:
    """Every lock pod held (the organisation lock, shard locks, a dead shard's probe), or only
    those of ``shard`` (its lock, and its probe of the organisation lock if it was killed then)."""
    found = lock.find_all(client)
    if shard is not None:
        found = lock.of_shard(found, shard.index, shard.count)
    return [HeldLock(p["pod_id"], p["client_id"], lock.Holder.parse(p["name"], client.redact)) for p in found]


def release(client: AgentMailClient, held: HeldLock) -> None:
    lock.release(client, held.pod_id)
