"""Limit a plan with --target / --exclude globs, keeping it executable.

A target selects the changes whose address matches the glob, everything under them
(``pod/tenant-a`` takes its inboxes, keys...), and every change they need first (the pod an
inbox is created in, the children deleted before their pod). An exclusion removes matching
changes, everything under them, and every change that would have needed them.

A key's leftovers count as at the key: ``api_key/backend#<id>`` (a key a killed apply left under
its pending name, deleted as "secret never recorded") is taken by ``--target api_key/backend``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from mailctl.errors import UsageError
from mailctl.kinds import canonical_pattern, unmatchable
from mailctl.plan.changes import Change, Plan
from mailctl.plan.steps import PHASES, Prerequisites, Step, steps_of
from mailctl.resources import address_matches, glob_matches, literal_text, matching_literals


class Derived(str):
    """A target mailctl derived rather than one the user wrote: ``--changed-since REF`` gives one per
    changed address (thousands after a template edit). The plan names the flag it came from once,
    and notes no such target on its own when it matches nothing (a pull request already applied)."""

    # What it was derived from: (("--changed-since", "origin/main"), ("--target", "pod/eu-*")).
    flags: tuple[tuple[str, str], ...]

    def __new__(cls, pattern: str, flags: tuple[tuple[str, str], ...]) -> Derived:
        self = super().__new__(cls, pattern)
        self.flags = flags
        return self


def matches(address: str, pattern: str) -> bool:
    """Glob match on the address or any of its ancestors (``pod/a`` matches ``pod/a/inbox/x``);
    a key named ``name#suffix`` also matches as the key ``name`` whose leftover it is."""
    return address_matches(address, pattern)


def matched_by(addresses: Iterable[str], patterns: Iterable[str]) -> dict[str, set[str]]:
    """pattern -> the addresses it matches (as ``matches``). Patterns that are addresses are looked
    up from each address's scopes: ``--changed-since`` after a template edit gives one per tenant,
    and trying each on every address would be tenants x resources matches."""
    out: dict[str, set[str]] = {pattern: set() for pattern in patterns}
    by_text: dict[str, list[str]] = {}
    globs = []
    for pattern in out:
        text = literal_text(pattern)
        if text is None:
            globs.append(pattern)
        else:  # also as written: `api_key/k [b]` names the key `k [b]` as well as `k b`
            for written in dict.fromkeys((text, pattern)):
                by_text.setdefault(written, []).append(pattern)
    for address in addresses:
        if by_text:
            for candidate in matching_literals(address):
                for pattern in by_text.get(candidate, ()):
                    out[pattern].add(address)
        for pattern in globs:
            if glob_matches(address, pattern):
                out[pattern].add(address)
    return out


def matching_nothing(patterns: Iterable[str], addresses: Iterable[str]) -> list[str]:
    """The patterns given by hand (not ``Derived``) that match none of ``addresses``: a typo, most
    likely, where a report that checked nothing would still say all is well."""
    given = [p for p in patterns if not isinstance(p, Derived)]
    return [p for p, found in matched_by(addresses, given).items() if not found] if given else []


def select(plan: Plan, targets: list[str], excludes: list[str]) -> Plan:
    if not targets and not excludes:
        return plan
    steps = steps_of(plan)
    graph = Prerequisites(steps)
    matched = matched_by((c.address for c in plan.changes), targets)
    excluded: set[str] = set()
    if excludes:  # the excluded changes and every change that needs one of them
        dropped = set().union(*matched_by((c.address for c in plan.changes), excludes).values())
        needed_by = _reverse(steps, graph)
        excluded = _closure(dropped, lambda address: needed_by.get(address, ()))
    if targets:
        # Walked from the selection left once excluded (what only an excluded target needed is not
        # kept; what a kept target needs is never excluded, or it would be too): a pull request's
        # target in a fleet asks for a handful of steps' prerequisites, not the whole plan's.
        chosen = _closure(set().union(*matched.values()) - excluded, _needs_of(steps, graph))
    else:
        chosen = {c.address for c in plan.changes} - excluded
    for pattern, found in matched.items():
        if isinstance(pattern, Derived):
            continue
        if not found:
            plan.notes.append(f"--target {pattern} matches no pending change")
        elif found <= excluded:
            plan.notes.append(f"--target {pattern}: every change it matches is excluded by --exclude")
    kept = [c for c in plan.changes if c.address in chosen]
    return Plan(
        changes=kept,
        unmanaged=plan.unmanaged,
        notes=plan.notes,
        labels=plan.labels,
        managed_count=plan.managed_count,
        selection=_selection(plan.selection, targets, excludes),
    )


def _selection(
    before: tuple[tuple[str, str], ...], targets: list[str], excludes: list[str]
) -> tuple[tuple[str, str], ...]:
    """``Plan.selection`` after ``select``: each flag as given, derived targets as their flag once."""
    given = [flag for t in targets for flag in (t.flags if isinstance(t, Derived) else [("--target", t)])]
    return tuple(dict.fromkeys([*before, *given, *(("--exclude", e) for e in excludes)]))


def canonical(patterns: Iterable[str]) -> list[str]:
    """``--target``/``--exclude`` patterns as addresses are written (``kinds.canonical_pattern``:
    an inbox's address in lower case); a derived target is one already."""
    return [p if isinstance(p, Derived) else canonical_pattern(p) for p in patterns]


def validate_patterns(patterns: list[str], option: str) -> None:
    for pattern in patterns:
        why = unmatchable(pattern)
        if why is not None:
            raise UsageError(
                f"{option} {pattern!r}: expected an address such as pod/tenant-a or pod/tenant-* "
                f"(it can never match one: {why})"
            )


def _needs_of(steps: dict[Step, Change], graph: Prerequisites) -> Callable[[str], set[str]]:
    """address -> the addresses its steps wait for (another address's create or delete)."""

    def needs(address: str) -> set[str]:
        own = [step for phase in PHASES if (step := (address, phase)) in steps]
        return {a for step in own for a, _ in graph.of(step) if a != address}

    return needs


def _reverse(steps: dict[Step, Change], graph: Prerequisites) -> dict[str, set[str]]:
    """address -> the addresses whose steps wait for it (the whole graph, walked backwards; every
    change has a step)."""
    needs = _needs_of(steps, graph)
    out: dict[str, set[str]] = {}
    for address in {a for a, _ in steps}:
        for prerequisite in needs(address):
            out.setdefault(prerequisite, set()).add(address)
    return out


def _closure(start: set[str], edges: Callable[[str], Iterable[str]]) -> set[str]:
    seen, todo = set(start), list(start)
    while todo:
        for nxt in edges(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen
