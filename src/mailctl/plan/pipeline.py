"""The plan the commands show and apply: plan, narrow, then facts, then finish. Pure.

1. The planner compares desired and actual state (``planner.plan``).
2. ``--target``/``--exclude`` and ``--shard`` narrow it.
3. The narrowed plan says which facts its own changes need (``facts_needed``); the caller reads
   them (``mailctl.api.facts``): one function, so the rules of the plan are never restated.
4. ``finish`` puts them on the changes, adds the notes and the refusals (``safety``).
"""

from __future__ import annotations

from collections.abc import Callable

from mailctl.facts import FactsNeeded, StateFacts
from mailctl.kinds import spec_of
from mailctl.plan import planner, safety, shards, targeting
from mailctl.plan.changes import CREATE, REPLACE, Plan
from mailctl.resources import ActualState, DesiredState, Resource

ReadFacts = Callable[[FactsNeeded], StateFacts]


def make_plan(
    desired: DesiredState,
    actual: ActualState,
    read_facts: ReadFacts,
    targets: list[str],
    excludes: list[str],
    shard: shards.Shard | None = None,
) -> Plan:
    plan = narrowed(desired, actual, targets, excludes, shard)
    needed = facts_needed(plan, actual)
    return finish(plan, desired, actual, read_facts(needed) if needed else StateFacts())


def narrowed(
    desired: DesiredState,
    actual: ActualState,
    targets: list[str],
    excludes: list[str],
    shard: shards.Shard | None = None,
) -> Plan:
    selected = targeting.select(planner.plan(desired, actual), targets, excludes)
    return shards.select(selected, shard, actual.resources)


def facts_needed(plan: Plan, actual: ActualState) -> FactsNeeded:
    """What the plan's own changes need read: what destroyed mail holders hold, and the status of
    the existing resources its creates wait on."""
    held = sorted({c.actual.name for c in plan.changes if c.destroys_mail_holder and c.actual is not None})
    waits = {r.address: r for r in _waited_on(plan, actual).values() if r.address in actual.resources}
    return FactsNeeded(held_data=held, statuses=[waits[a] for a in sorted(waits)])


def finish(plan: Plan, desired: DesiredState, actual: ActualState, facts: StateFacts) -> Plan:
    for change in plan.changes:
        if change.destroys_mail_holder and change.actual is not None:
            change.data_at_risk = facts.inbox_data.get(change.actual.name)
    plan.notes.extend(unverified_notes(plan, actual, facts))
    repairs = safety.repairs_note(plan)
    if repairs:
        plan.notes.append(repairs)
    plan.refusals = safety.refusals(plan, desired, actual) + safety.unseen_mail(plan, facts.mail_unseen)
    return plan


def _waited_on(plan: Plan, actual: ActualState) -> dict[str, Resource]:
    """change address -> the resource (existing or planned) it is created on and waits for."""
    planned = plan.by_address()
    out: dict[str, Resource] = {}
    for change in plan.changes:
        if change.action not in (CREATE, REPLACE) or change.desired is None:
            continue
        for address in spec_of(change.kind).uses(change.desired):
            found = actual.resources.get(address)
            if found is None and address in planned and planned[address].desired is not None:
                found = planned[address].desired
            if found is not None:
                out[change.address] = found
                break
    return out


def unverified_notes(plan: Plan, actual: ActualState, facts: StateFacts) -> list[str]:
    """Creates planned on a domain that is not verified will wait for it: say so."""
    waiting: dict[str, list[str]] = {}
    for address, used in _waited_on(plan, actual).items():
        waiting.setdefault(used.address, []).append(address)
    notes = []
    for address, waiters in sorted(waiting.items()):
        status = facts.domain_status.get(address, "new")
        if status != "VERIFIED":
            notes.append(
                f"{len(waiters)} inbox(es) on {address} ({status}) are created only once it "
                f"verifies: apply starts verification; see `mailctl dns`, `--wait-for-domains`"
            )
    return notes
