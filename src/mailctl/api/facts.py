"""The second half of reading the state: facts the plan reports but never diffs.

Deleting an inbox destroys its mail, so the plan shows what each inbox it may destroy holds; an
inbox on an unverified domain waits for it, so the plan says which domains are not verified. Both
cost requests per object, so they are read only for candidates: inboxes the plan may destroy
(existing in a managed pod but undeclared, or declared with a different immutable attribute, or in
a pod whose declared attributes differ: a pod is replaced, never updated) and the existing domains
inboxes may be created on. The plan picks from these what its changes need.
"""

from __future__ import annotations

from mailctl.api.reader import StateReader
from mailctl.facts import StateFacts
from mailctl.kinds import spec_of
from mailctl.resources import (
    DEFAULT_DOMAIN,
    INBOX,
    ActualState,
    DesiredState,
    Resource,
    domain_address,
    pod_address,
)


def read_facts(reader: StateReader, desired: DesiredState, actual: ActualState) -> StateFacts:
    candidates = _Candidates(desired, actual)
    doomed = sorted({r.name for r in candidates.destroyed_inboxes()})
    domains = candidates.gating_domains()
    return StateFacts(
        inbox_data=reader.count_inbox_data(doomed) if doomed else {},
        domain_status=reader.domain_statuses(domains, actual) if domains else {},
    )


class _Candidates:
    def __init__(self, desired: DesiredState, actual: ActualState):
        self.desired, self.actual = desired, actual

    def destroyed_inboxes(self) -> list[Resource]:
        """Existing inboxes the plan may delete or replace (a superset: the planner decides)."""
        out = []
        for address, have in self.actual.resources.items():
            if have.kind != INBOX or have.pod is None:
                continue
            want = self.desired.resources.get(address)
            if want is None and self._managed_pod(have.pod) or want is not None and self._replaceable(want, have):
                out.append(have)
        return out

    def gating_domains(self) -> list[Resource]:
        """Existing custom domains that inboxes the plan may create (or re-create) are on."""
        found: dict[str, Resource] = {}
        for address, want in self.desired.resources.items():
            have = self.actual.resources.get(address)
            if want.kind != INBOX or have is not None and not self._replaceable(want, have):
                continue
            domain = want.name.partition("@")[2]
            if domain == DEFAULT_DOMAIN:
                continue
            for candidate in (domain_address(domain, pod=want.pod), domain_address(domain)):
                if candidate in self.actual.resources:
                    found[candidate] = self.actual.resources[candidate]
        return [found[a] for a in sorted(found)]

    def _managed_pod(self, pod: str) -> bool:
        address = pod_address(pod)
        if address in self.desired.resources:
            return True
        have = self.actual.resources.get(address)
        return have is not None and self.desired.manage.manages_pod(have.observed.client_id)

    def _replaceable(self, want: Resource, have: Resource) -> bool:
        """An immutable declared attribute differs here or in the pod (compared loosely: a superset)."""
        pairs = [(want, have)]
        if want.pod is not None:
            pod = pod_address(want.pod)
            pod_want, pod_have = self.desired.resources.get(pod), self.actual.resources.get(pod)
            if pod_want is not None and pod_have is not None:
                pairs.append((pod_want, pod_have))
        return any(w.attrs[a] != h.attrs.get(a) for w, h in pairs for a in w.attrs if a not in spec_of(w.kind).mutable)
