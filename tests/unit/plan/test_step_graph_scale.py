"""The step graph and the applier's scheduling stay linear: built and run for many thousand steps.

No timing is asserted (speed is measured in bench/); a quadratic graph of 20,000 steps would take
minutes, and the operation counts below pin the linear shape directly.
"""

from __future__ import annotations

from mailctl.apply import DONE, Applier
from mailctl.plan import steps as steps_module
from mailctl.plan.changes import CREATE, DELETE, Change, Plan
from mailctl.plan.steps import dependencies, dependents, steps_of
from mailctl.resources import INBOX, POD, Resource, inbox_address, pod_address


def _tenants(count: int, inboxes: int = 3) -> list[Resource]:
    out: list[Resource] = []
    for n in range(count):
        pod = f"t{n:05d}"
        out.append(Resource(POD, pod_address(pod), {"name": pod}))
        out += [
            Resource(INBOX, inbox_address(pod, f"i{i}-{pod}@agentmail.to"), {}, parent=pod_address(pod))
            for i in range(inboxes)
        ]
    return out


def test_deleting_5000_tenants_builds_a_graph_of_20000_steps_by_looking_up_not_scanning(monkeypatch):
    looked_up = []
    real = steps_module._prefixes
    monkeypatch.setattr(steps_module, "_prefixes", lambda a: looked_up.append(a) or real(a))
    plan = Plan(changes=[Change(DELETE, r.address, actual=r) for r in _tenants(5000)])
    needs = dependencies(steps_of(plan))
    assert len(needs) == 20000
    assert len(looked_up) == 20000  # one ancestor walk per delete, not one scan per pair
    assert needs[("pod/t00042", DELETE)] == {
        (inbox_address("t00042", f"i{i}-t00042@agentmail.to"), DELETE) for i in range(3)
    }
    assert sum(len(n) for n in needs.values()) == 15000


def test_creating_5000_tenants_waits_only_for_each_inboxs_own_pod():
    plan = Plan(changes=[Change(CREATE, r.address, desired=r) for r in _tenants(5000)])
    needs = dependencies(steps_of(plan))
    reverse = dependents(needs)
    assert len(needs) == 20000
    assert reverse[("pod/t04999", CREATE)] == sorted(reverse[("pod/t04999", CREATE)])
    assert len(reverse[("pod/t04999", CREATE)]) == 3
    assert all(len(n) == (0 if a.count("/") == 1 else 1) for (a, _), n in needs.items())


class _Instant:
    def __init__(self) -> None:
        self.calls = 0

    def create(self, resource: Resource, replacing: Resource | None = None) -> None:
        self.calls += 1

    def delete(self, resource: Resource) -> None:
        self.calls += 1

    def update(self, change: Change) -> None:
        self.calls += 1


def test_the_applier_runs_6000_steps_each_once_parents_before_children():
    writer = _Instant()
    seen: list[str] = []
    plan = Plan(changes=[Change(CREATE, r.address, desired=r) for r in _tenants(1500)])
    result = Applier(writer, parallelism=8, on_result=lambda r: seen.append(r.address)).apply(plan)  # type: ignore[arg-type]
    assert writer.calls == 6000 and len(result.having(DONE)) == 6000
    position = {a: i for i, a in enumerate(seen)}
    assert all(
        position[pod_address(f"t{n:05d}")] < position[inbox_address(f"t{n:05d}", f"i0-t{n:05d}@agentmail.to")]
        for n in range(1500)
    )
