"""``--shard K/N``: a stable partition of the pods, so N machines can plan, apply and check one config.

A pod belongs to shard ``sha256(client_id) mod N + 1``: the same on every run, machine and Python
version (no ``hash()`` salt), and every pod is in exactly one shard. Everything inside a pod
(inboxes, pod domains, keys, webhooks, lists) goes with its pod. Organisation-level resources
(domains, keys, webhooks and lists at organisation scope) belong to shard 1 only.

A change that needs a create of another shard (an inbox on an organisation domain, an
organisation webhook subscribed to a pod of shard 3) keeps that create in ``Plan.awaited``: the
applier waits for it to appear (and, for a domain, to verify), bounded and reported, so N shards
started together converge in one run; a wait that runs out leaves the dependent work deferred.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace

from mailctl.errors import UsageError
from mailctl.plan.changes import CREATE, Change, Plan
from mailctl.plan.steps import dependencies, steps_of
from mailctl.resources import pod_of

_SPEC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
MAX_SHARDS = 1000


def shard_of(client_id: str, count: int) -> int:
    """The shard (1..count) of the pod with this client_id."""
    digest = hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


@dataclass(frozen=True)
class Shard:
    index: int  # K, 1-based
    count: int  # N

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = _SPEC.match(text)
        if match is None:
            raise UsageError(f"--shard {text!r}: expected K/N, such as 2/4 (shard K of N)")
        index, count = int(match[1]), int(match[2])
        if not 1 <= count <= MAX_SHARDS or not 1 <= index <= count:
            raise UsageError(f"--shard {text!r}: K/N needs 1 <= K <= N <= {MAX_SHARDS}")
        return cls(index, count)

    def owns(self, address: str) -> bool:
        pod = pod_of(address)
        return self.index == 1 if pod is None else shard_of(pod, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def select(plan: Plan, shard: Shard | None, existing: Iterable[str] | None = None) -> Plan:
    """The changes of ``shard``, with a note for each that waits for a change of another shard.

    ``existing``: the addresses read from the API; the safety thresholds then count only the
    managed resources of this shard (a shard deleting a third of itself is stopped like a whole
    apply deleting a third of everything)."""
    if shard is None or shard.count == 1:
        return plan
    kept = [c for c in plan.changes if shard.owns(c.address)]
    notes = list(plan.notes)
    kept_addresses = {c.address for c in kept}
    by_address = plan.by_address()
    awaited: dict[str, Change] = {}
    for (address, _), prerequisites in sorted(dependencies(steps_of(plan)).items()):
        if address not in kept_addresses:
            continue
        for other, phase in sorted(prerequisites):
            if other in kept_addresses:
                continue
            owner = _shard_name(other, shard.count)
            if phase == CREATE and by_address[other].desired is not None:
                # Waited for, bounded (apply --wait-for-shards): shards started together converge.
                awaited[other] = replace(by_address[other], owner=owner)
                notes.append(f"{address} waits for {other}, which shard {owner} creates")
            else:
                notes.append(
                    f"{address} waits for the {phase} of {other} (shard {owner}): if it fails, "
                    f"re-run this shard once that shard has applied"
                )
    unmanaged = [a for a in plan.unmanaged if shard.owns(a)]
    if existing is None:
        managed = plan.managed_count
    else:
        managed = sum(1 for a in existing if shard.owns(a)) - len(unmanaged)
    return Plan(
        changes=kept,
        unmanaged=unmanaged,
        notes=notes,
        labels=plan.labels,
        managed_count=max(0, managed),
        awaited=[awaited[a] for a in sorted(awaited)],
        selection=(*plan.selection, ("--shard", str(shard))),
    )


def works(addresses: Iterable[str], count: int) -> list[int]:
    """How many of ``addresses`` (a config's resources) each of ``count`` shards owns, shard K at
    K - 1: what a shard knows of the others' work when they share one rate limit."""
    owned = [0] * count
    for address in addresses:
        pod = pod_of(address)
        owned[0 if pod is None else shard_of(pod, count) - 1] += 1
    return owned


def _shard_name(address: str, count: int) -> str:
    pod = pod_of(address)
    return f"{1 if pod is None else shard_of(pod, count)}/{count}"
