"""The step graph of a plan: which steps a plan takes and which must succeed before each starts.

Each change becomes one or two steps: create, update, delete, or delete-then-create for a
replacement. A step waits for:

- creates/updates: the creation of the scope it lives in (pod, inbox), of the domain its inbox
  address uses, of the pods/inboxes its attributes name (subscriptions), and of its own delete when replaced
  or moved (an inbox address or domain name is unique organisation-wide);
- deletes: the deletes of everything inside it (children first; a pod last); the old half of a
  create-first replacement (``Change.create_first``: API keys) waits for its new half instead.

Building the graph is linear in the number of steps (times the depth of an address): a delete
finds the deletes it must wait for by looking *up* from each deleted address to its ancestors,
never by scanning every delete for a prefix.
"""

from __future__ import annotations

from mailctl.kinds import names_index, referenced, spec_of
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE, Change, Plan
from mailctl.resources import parent_of

Step = tuple[str, str]  # (address, phase) with phase in create / update / delete


def steps_of(plan: Plan) -> dict[Step, Change]:
    """The plan's steps, and a create step for each create of another shard it waits for (the
    applier waits for those, ``Change.owner``)."""
    steps: dict[Step, Change] = {(c.address, CREATE): c for c in plan.awaited}
    for change in plan.changes:
        if change.action in (DELETE, REPLACE):
            steps[(change.address, DELETE)] = change
        if change.action in (CREATE, REPLACE):
            steps[(change.address, CREATE)] = change
        if change.action == UPDATE:
            steps[(change.address, UPDATE)] = change
    return steps


def dependencies(steps: dict[Step, Change]) -> dict[Step, set[Step]]:
    """For every step, the steps that must succeed before it starts."""
    graph = _Prerequisites(steps)
    for address in graph.deletes:
        graph.children_first(address)
    for (address, phase), change in steps.items():
        if phase != DELETE:
            graph.what_it_needs((address, phase), change)
    return graph.needs


class _Prerequisites:
    """The edges of one plan's step graph, built one rule at a time."""

    def __init__(self, steps: dict[Step, Change]):
        self.creates = {address for address, phase in steps if phase == CREATE}
        self.deletes = {address for address, phase in steps if phase == DELETE}
        desired = (c.desired for (_, p), c in steps.items() if p == CREATE and c.desired is not None)
        self.index = names_index(desired)
        self.deleted_identity: dict[tuple[str, str], list[str]] = {}
        for (address, phase), change in steps.items():
            if phase == DELETE and spec_of(change.kind).unique_name and change.actual is not None:
                self.deleted_identity.setdefault((change.kind, change.actual.name), []).append(address)
        self.needs: dict[Step, set[Step]] = {step: set() for step in steps}

    def children_first(self, address: str) -> None:
        """A deleted address makes every deleted ancestor wait for it."""
        for ancestor in _prefixes(address):
            if ancestor in self.deletes:
                self.needs[(ancestor, DELETE)].add((address, DELETE))

    def what_it_needs(self, step: Step, change: Change) -> None:
        """A create or update waits for the creation of what it lives in, is created on and names;
        a create also for deletes that free its name (or, create-first, the old one waits for it)."""
        address, phase = step
        assert change.desired is not None
        wanted = set(_ancestors(change.desired.parent))
        wanted |= set(spec_of(change.kind).uses(change.desired))  # an inbox's domain
        wanted |= set(referenced(change.desired, self.index))  # a webhook's pods and inboxes
        self.needs[step] |= {(a, CREATE) for a in wanted if a in self.creates and a != address}
        if phase != CREATE:
            return
        if address in self.deletes and change.create_first:
            self.needs[(address, DELETE)].add(step)  # the old one goes once the new one exists
        elif address in self.deletes:
            self.needs[step].add((address, DELETE))
        for other in self.deleted_identity.get((change.kind, change.desired.name), []):
            self.needs[step].add((other, DELETE))


def _ancestors(parent: str | None) -> list[str]:
    out = []
    while parent is not None:
        out.append(parent)
        parent = parent_of(parent)
    return out


def dependents(needs: dict[Step, set[Step]]) -> dict[Step, list[Step]]:
    """The reverse edges: for every step, the steps that wait for it."""
    out: dict[Step, list[Step]] = {step: [] for step in needs}
    for step, prerequisites in needs.items():
        for prerequisite in prerequisites:
            out.setdefault(prerequisite, []).append(step)
    return out


def _prefixes(address: str) -> list[str]:
    """Every proper prefix of ``address`` that ends before a ``/`` (what a prefix scan would match)."""
    return [address[:i] for i, ch in enumerate(address) if ch == "/"]
