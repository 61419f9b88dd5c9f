"""What a config change touches: two desired states -> the addresses that differ, with why. Pure.

``--changed-since REF`` loads the config at REF and in the working tree and asks this module
which addresses to target. Templates need no special case: both sides are rendered desired
states, so a template edit shows up at every tenant it stamps out.

- A resource added, removed, or declared differently (attributes, ``prevent_destroy``,
  ``ignore_changes``, parent) is selected at its own address. Where a scope is selected, what
  is under it is not listed again (``--target pod/a`` already takes ``pod/a/inbox/x``).
- A removed resource is selected for deletion: the planner deletes it if it is managed.
- A scope whose ``lists`` key appeared or went away selects its list entries (the scope itself,
  when it is selected anyway, takes them: its reason says so).
- A ``moved`` block added or removed selects both of its addresses.
- A different ``manage`` policy changes which *undeclared* resources are managed; those cannot be
  named from the config, so it selects everything (``everything`` says why).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mailctl.resources import DesiredState, Resource, ancestors, literal, parent_of


@dataclass
class Selection:
    """The addresses a change selects (``reasons``: address -> why), or everything."""

    reasons: dict[str, str] = field(default_factory=dict)
    patterns: dict[str, str] = field(default_factory=dict)  # globs (list scopes) -> why
    everything: str | None = None  # why the whole config must be planned
    notes: list[str] = field(default_factory=list)  # differences that select nothing

    @property
    def empty(self) -> bool:
        return not self.reasons and not self.patterns and self.everything is None

    def targets(self) -> tuple[str, ...]:
        """``--target`` patterns for exactly these addresses (glob characters escaped)."""
        return tuple(sorted({*(literal(a) for a in self.reasons), *self.patterns}))


def changed(old: DesiredState, new: DesiredState) -> Selection:
    out = Selection()
    reasons: dict[str, str] = {}
    for address in sorted(old.resources.keys() | new.resources.keys()):
        why = _difference(old.resources.get(address), new.resources.get(address))
        if why is not None:
            reasons[address] = why
    out.reasons = _outermost(reasons)
    for scope in sorted(old.list_scopes ^ new.list_scopes, key=lambda s: s or ""):
        managed = "now managed" if scope in new.list_scopes else "no longer managed"
        selected = next((s for s in ancestors(scope) if s in out.reasons), None)
        if selected is None:
            pattern = f"{literal(scope)}/list/*" if scope else "list/*"
            out.patterns[pattern] = f"`lists` {managed} at {scope or 'organisation level'}"
        elif selected == scope and out.reasons[scope].startswith("changed"):  # added or removed says it all
            out.reasons[scope] += f"; `lists` {managed}"
    old_moved = {(m.source_address, m.target_address) for m in old.moved}
    new_moved = {(m.source_address, m.target_address) for m in new.moved}
    for source, target in sorted(old_moved ^ new_moved):
        block = "added" if (source, target) in new_moved else "removed"
        for address in (source, target):
            out.reasons.setdefault(address, f"moved block {source} -> {target} {block}")
    if old.manage != new.manage:
        out.everything = "the manage policy changed: which undeclared resources are managed is not in the config"
    if old.settings != new.settings:
        out.notes.append("settings changed (they select no resource)")
    return out


def _difference(before: Resource | None, after: Resource | None) -> str | None:
    if before is None:
        return "added"
    if after is None:
        return "removed: deleted if it is managed"
    what = []
    attrs = sorted(k for k in before.attrs.keys() | after.attrs.keys() if before.attrs.get(k) != after.attrs.get(k))
    if attrs or before.attrs.keys() != after.attrs.keys():
        what.append(", ".join(attrs) or "declared attributes")
    if before.prevent_destroy != after.prevent_destroy:
        what.append("prevent_destroy")
    if before.ignore_changes != after.ignore_changes:
        what.append("ignore_changes")
    return f"changed: {'; '.join(what)}" if what else None


def _outermost(reasons: dict[str, str]) -> dict[str, str]:
    """Leave out addresses under a selected scope: targeting the scope takes them already."""
    kept: dict[str, str] = {}
    under: dict[str, int] = {}
    for address, why in reasons.items():
        outer = next((s for s in reversed(ancestors(parent_of(address))) if s in reasons), None)
        if outer is None:
            kept[address] = why
        else:
            under[outer] = under.get(outer, 0) + 1
    for scope, count in under.items():
        if scope in kept:
            kept[scope] += f" (and {count} under it)"
    return kept
