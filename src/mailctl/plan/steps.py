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
never by scanning every delete for a prefix. ``Prerequisites`` answers for one step at a time, so
``--target`` walks only from the steps it selects (a handful of 40,000 in a fleet).
"""

from __future__ import annotations

from mailctl.kinds import names_index, referenced, spec_of
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE, Change, Plan
from mailctl.resources import ancestors

Step = tuple[str, str]  # (address, phase) with phase in create / update / delete
PHASES = (CREATE, UPDATE, DELETE)


def steps_of(plan: Plan) -> dict[Step, Change]:
    """The plan's steps, and a create step for each create of another shard it waits for (the
    applier waits for those, ``Change.owner``)."""
    steps: dict[Step, Change] = {(c.address, CREATE): c for c in plan.awaited}
    steps.update(change_steps(plan))
    return steps


def change_steps(plan: Plan) -> dict[Step, Change]:
    """The steps of the plan's own changes: what apply does, counts and reports as its own (never
    the waits for another shard's creates)."""
    steps: dict[Step, Change] = {}
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
    graph = Prerequisites(steps)
    return {step: graph.of(step) for step in steps}


class Prerequisites:
    """The edges of one plan's step graph, asked one step at a time (``of``): ``dependencies``
    asks for every step; ``--target`` only for the steps its selection reaches."""

    def __init__(self, steps: dict[Step, Change]):
        self.steps = steps
        self.creates = {address for address, phase in steps if phase == CREATE}
        self.deletes = {address for address, phase in steps if phase == DELETE}
        self.deleted_identity: dict[tuple[str, str], list[str]] = {}
        for (address, phase), change in steps.items():
            if phase == DELETE and spec_of(change.kind).unique_name and change.actual is not None:
                self.deleted_identity.setdefault((change.kind, change.actual.name), []).append(address)
        self._deleted_under: dict[str, list[str]] | None = None
        self._index: dict[tuple[str, str], str] | None = None

    @property
    def index(self) -> dict[tuple[str, str], str]:
        """What the created resources are named, for what other declarations reference (built on
        first use: a targeted plan may ask for no step that references anything)."""
        if self._index is None:
            desired = (c.desired for (_, p), c in self.steps.items() if p == CREATE and c.desired is not None)
            self._index = names_index(desired)
        return self._index

    def of(self, step: Step) -> set[Step]:
        """The steps that must succeed before ``step`` starts."""
        address, phase = step
        change = self.steps[step]
        if phase == DELETE:
            return self._before_delete(address)
        return self._before_create_or_update(step, change)

    def _before_delete(self, address: str) -> set[Step]:
        """A delete waits for the deletes of everything inside it (children first); the old half of a
        create-first replacement waits for its new half."""
        needs: set[Step] = {(inside, DELETE) for inside in self._under().get(address, ())}
        new = self.steps.get((address, CREATE))
        if new is not None and new.create_first:
            needs.add((address, CREATE))  # the old one goes once the new one exists
        return needs

    def _under(self) -> dict[str, list[str]]:
        """Deleted address -> the deleted addresses inside it, found by looking *up* from each
        deleted address to its ancestors (never by scanning every delete for a prefix)."""
        if self._deleted_under is None:
            self._deleted_under = {}
            for address in self.deletes:
                for ancestor in _prefixes(address):
                    if ancestor in self.deletes:
                        self._deleted_under.setdefault(ancestor, []).append(address)
        return self._deleted_under

    def _before_create_or_update(self, step: Step, change: Change) -> set[Step]:
        """A create or update waits for the creation of what it lives in, is created on and names;
        a create also for deletes that free its name (unless it is created first)."""
        address, phase = step
        assert change.desired is not None
        spec = spec_of(change.kind)
        wanted = set(ancestors(change.desired.parent))
        wanted |= set(spec.uses(change.desired))  # an inbox's domain
        if spec.refers:  # a webhook's pods and inboxes (the index is built only if one is asked for)
            wanted |= set(referenced(change.desired, self.index))
        needs: set[Step] = {(a, CREATE) for a in wanted if a in self.creates and a != address}
        if phase != CREATE:
            return needs
        if address in self.deletes and not change.create_first:
            needs.add((address, DELETE))
        for other in self.deleted_identity.get((change.kind, change.desired.name), []):
            needs.add((other, DELETE))
        return needs


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
