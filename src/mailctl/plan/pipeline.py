"""The plan the commands show and apply: planned with the facts read, targeted, annotated. Pure.

The facts (what doomed inboxes hold, which domains are verified) were read with the state
(``mailctl.api.facts``); here they go onto the changes and notes, once, with no I/O.
"""

from __future__ import annotations

from mailctl.facts import StateFacts
from mailctl.plan import planner, targeting
from mailctl.plan.changes import CREATE, REPLACE, Plan
from mailctl.resources import DEFAULT_DOMAIN, INBOX, ActualState, DesiredState, domain_address


def make_plan(
    desired: DesiredState, actual: ActualState, facts: StateFacts, targets: list[str], excludes: list[str]
) -> Plan:
    full = planner.plan(desired, actual, facts)
    selected = targeting.select(full, targets, excludes)
    selected.notes.extend(unverified_domain_notes(selected, actual, facts))
    return selected


def unverified_domain_notes(plan: Plan, actual: ActualState, facts: StateFacts) -> list[str]:
    """Inboxes planned on a domain that is not verified will wait for it: say so."""
    waiting: dict[str, list[str]] = {}
    planned = plan.by_address()
    for change in plan.changes:
        if change.kind == INBOX and change.action in (CREATE, REPLACE) and change.desired is not None:
            domain = change.desired.name.partition("@")[2]
            if domain == DEFAULT_DOMAIN:
                continue
            for address in (domain_address(domain, pod=change.desired.pod), domain_address(domain)):
                if address in actual.resources or address in planned:
                    waiting.setdefault(address, []).append(change.address)
                    break
    notes = []
    for address, inboxes in sorted(waiting.items()):
        status = facts.domain_status.get(address, "new")
        if status != "VERIFIED":
            notes.append(
                f"{len(inboxes)} inbox(es) on {address} ({status}) are created only once it "
                f"verifies: apply starts verification; see `mailctl dns`, `--wait-for-domains`"
            )
    return notes
