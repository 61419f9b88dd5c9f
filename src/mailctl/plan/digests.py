"""What an approved plan's freshness covers: digests of the part of the actual state it depends on.

A saved or approved plan is refused when the state it was made from moved. A whole plan depends on
everything it read. A narrowed one depends only on its own part, so that work elsewhere (another
tenant onboarded by a signup handler, other shards started together) does not make it stale:

- ``--target``: the pods the targets take (read whole: their children, the resources
  ``manage.ignore`` leaves in them, the undeclared pods a glob and ``manage.pods`` would delete),
  the pods of every recorded change (an inbox moved out of another pod) and of what they name (a
  webhook's pods and inboxes), and every organisation-level resource the plan read (the domain an
  inbox is created on);
- ``--shard K/N``: only the shard's own part of that (the organisation level is shard 1's): the
  other shards, started together, change theirs meanwhile, and it waits for what they create.

``--exclude`` only removes changes and never narrows what is digested. The manage and protect
rules are part of the recorded desired state, and the rails are checked again on the plan computed
at apply time, which must equal the recorded one: narrowing the digest lifts no rail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable

from mailctl.kinds import names_index, referenced, spec_of
from mailctl.plan import reads, targeting
from mailctl.plan.shards import Shard
from mailctl.resources import ActualState, DesiredState, pod_of


def state_digests(actual: ActualState, depends_on: Callable[[str], bool] | None = None) -> dict[str, str]:
    """address -> digest of what the API reported for it (attributes and remote id), for the
    addresses ``depends_on`` keeps (every address without it)."""
    return {
        address: hashlib.sha256(json.dumps([r.remote_id, r.attrs], sort_keys=True, default=str).encode()).hexdigest()[
            :16
        ]
        for address, r in sorted(actual.resources.items())
        if depends_on is None or depends_on(address)
    }


def fingerprint(digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def depended_on(
    desired: DesiredState,
    targets: Iterable[str],
    shard: Shard | None,
    changed: Iterable[str],
) -> Callable[[str], bool] | None:
    """Which actual addresses a plan narrowed by ``targets`` / ``shard`` depends on, given the
    addresses of its recorded changes (``changed``); None: a whole plan depends on everything."""
    scope = reads.read_scope(targeting.canonical(targets), shard)
    if scope.everything:
        return None
    named = set(changed)
    index = None
    for address in list(named):
        resource = desired.resources.get(address)
        if resource is not None and spec_of(resource.kind).refers:
            index = index if index is not None else names_index(desired.resources.values())
            named |= set(referenced(resource, index))
    pods = {pod for pod in map(pod_of, named) if pod is not None}

    def depends_on(address: str) -> bool:
        if shard is not None and not shard.owns(address):
            return False  # another shard's part, which it changes meanwhile
        pod = pod_of(address)
        # The organisation level is read only when the plan needs it (a target there, a domain in use).
        return pod is None or pod in pods or scope.takes_pod(pod)

    return depends_on
