"""Limit a plan with --target / --exclude globs, keeping it executable.

A target selects the changes whose address matches the glob, everything under them
(``pod/tenant-a`` takes its inboxes, keys...), and every change they need first (the pod an
inbox is created in, the children deleted before their pod). An exclusion removes matching
changes, everything under them, and every change that would have needed them.

A key's leftovers count as at the key: ``api_key/backend#<id>`` (a key a killed apply left under
its pending name, deleted as "secret never recorded") is taken by ``--target api_key/backend``.
"""

from __future__ import annotations

from mailctl.errors import UsageError
from mailctl.plan.changes import Plan
from mailctl.plan.steps import dependencies, steps_of
from mailctl.resources import address_matches


def matches(address: str, pattern: str) -> bool:
    """Glob match on the address or any of its ancestors (``pod/a`` matches ``pod/a/inbox/x``);
    a key named ``name#suffix`` also matches as the key ``name`` whose leftover it is."""
    return address_matches(address, pattern)


def select(plan: Plan, targets: list[str], excludes: list[str]) -> Plan:
    if not targets and not excludes:
        return plan
    needs = _address_needs(plan)
    chosen = {c.address for c in plan.changes if not targets or any(matches(c.address, t) for t in targets)}
    if targets:
        chosen = _closure(chosen, needs)
    if excludes:
        dropped = {c.address for c in plan.changes if any(matches(c.address, e) for e in excludes)}
        needed_by = _reverse(needs)
        chosen -= _closure(dropped, needed_by)
    for pattern in targets:
        if not any(matches(c.address, pattern) for c in plan.changes):
            plan.notes.append(f"--target {pattern} matches no pending change")
    kept = [c for c in plan.changes if c.address in chosen]
    return Plan(
        changes=kept, unmanaged=plan.unmanaged, notes=plan.notes, labels=plan.labels, managed_count=plan.managed_count
    )


def validate_patterns(patterns: list[str], option: str) -> None:
    for pattern in patterns:
        if not pattern or pattern.startswith("/") or "//" in pattern:
            raise UsageError(f"{option} {pattern!r}: expected an address such as pod/tenant-a or pod/tenant-*")


def _address_needs(plan: Plan) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {c.address: set() for c in plan.changes}
    for (address, _), prerequisites in dependencies(steps_of(plan)).items():
        out[address] |= {a for a, _ in prerequisites if a != address}
    return out


def _reverse(needs: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {a: set() for a in needs}
    for address, prerequisites in needs.items():
        for p in prerequisites:
            out.setdefault(p, set()).add(address)
    return out


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
