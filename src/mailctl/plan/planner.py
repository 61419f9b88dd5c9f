"""The planner: a pure function of (desired, actual) -> Plan. No I/O here.

Rules, in the order they are applied:

1. Every desired resource is created if absent, updated in place if a mutable attribute differs,
   replaced if an immutable one differs (the diff says which one "forces replacement").
2. Existing resources mailctl manages but the config does not declare are deleted: children of a
   declared pod, and undeclared pods matching ``manage`` (with everything in them).
   Organisation-level resources and pods outside ``manage`` are never deleted: they are listed as
   unmanaged.
3. Replacing a pod (its name is immutable) destroys everything in it, so its existing children
   are deleted first and the declared ones re-created after.
4. Inbox ids (addresses) and domain names are unique in an organisation: declaring one in a
   different scope than it exists in moves it (delete, then create) when mailctl manages the old
   scope, and is a PlanError when it does not.
5. ``moved: {from, to}``: the resource found at ``from`` is the actual state of ``to``, renamed in
   place (an update), or replaced from there when an immutable attribute changed too (create-first
   for keys: the old one is deleted by that replacement, wherever it is declared); once applied
   (``from`` gone, ``to`` there) the block changes nothing.
6. ``ignore_changes`` attributes are sent with a create and never diffed after; ``manage.ignore``
   matches existing resources that are left alone (listed as unmanaged, never deleted).
7. Leftovers of an interrupted run (a key whose secret was never recorded, the old key of an
   unfinished create-first replacement) are replaced or deleted as *repairs*.
"""

from __future__ import annotations

from typing import Any

from mailctl.errors import PlanError
from mailctl.kinds import spec_of
from mailctl.kinds.base import replaced_name
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE, AttributeChange, Change, Plan
from mailctl.resources import ActualState, DesiredState, Resource, pod_address, pod_of

SECRET_NEVER_RECORDED = "secret never recorded"
REPLACEMENT_UNFINISHED = "left marked by a replacement that did not finish"
OLD_HALF_OF_REPLACEMENT = "replaced by a new key; the old one's delete did not finish"


def plan(desired: DesiredState, actual: ActualState) -> Plan:
    """Every change, unnarrowed and without facts: ``pipeline`` narrows it and finishes it."""
    moved, notes = _moves(desired, actual)
    scope = _Scope(desired, actual, {have.address for have in moved.values()})
    labels = {a: label for a, r in actual.resources.items() if (label := spec_of(r.kind).label(r)) is not None}
    result = Plan(unmanaged=scope.unmanaged(), managed_count=len(scope.managed_actual), labels=labels)
    changes: dict[str, Change] = {}
    result.notes.extend(notes)

    for address, want in desired.resources.items():
        have = actual.resources.get(address)
        change = _rename(want, moved[address]) if have is None and address in moved else _compare(want, have)
        if change is not None:
            changes[address] = change

    renamed = {c.moved_from for c in changes.values() if c.moved_from is not None}
    for address, have in scope.managed_actual.items():
        if address not in desired.resources and address not in renamed:
            reason = scope.delete_reason(have)
            changes[address] = Change(DELETE, address, actual=have, reason=reason, repair=_is_repair(reason))

    _cascade_pod_replacements(changes, desired, scope)
    _resolve_moves(changes, desired, actual, scope)
    result.changes = sorted(changes.values(), key=lambda c: c.address)
    return result


def _moves(desired: DesiredState, actual: ActualState) -> tuple[dict[str, Resource], list[str]]:
    """``to`` address -> the existing resource it is renamed from; notes for blocks that do nothing."""
    out: dict[str, Resource] = {}
    notes = []
    for move in desired.moved:
        have = actual.resources.get(move.source_address)
        if have is None:
            continue  # applied already (or never existed): harmless
        if move.target_address in actual.resources:
            notes.append(
                f"moved {move.source_address} -> {move.target_address}: both exist, so nothing is renamed "
                f"({move.source_address} is planned on its own)"
            )
            continue
        out[move.target_address] = have
    return out, notes


def _rename(want: Resource, have: Resource) -> Change:
    """An in-place rename (``moved``), plus any other declared difference. When a difference forces
    replacement, the resource at the old address is what the replacement deletes (after creating
    the new one, for kinds that create first), so it is never left behind."""
    diff = _declared_diff(want, have)
    causes = [d.path for d in diff if d.forces_replacement]
    if not causes:
        return _renamed(want, have, have.name, diff, f"moved from {have.address}: renamed in place")
    return Change(
        REPLACE,
        want.address,
        desired=want,
        actual=have,
        diff=[AttributeChange("name", have.name, want.name), *diff],
        moved_from=have.address,
        reason=f"moved from {have.address}; {', '.join(causes)} forces replacement",
        create_first=spec_of(want.kind).create_before_destroy,
    )


def _renamed(want: Resource, have: Resource, old_name: str, diff: list[AttributeChange], reason: str) -> Change:
    """An update that gives ``have`` its declared name back or a new one (the writer PATCHes the
    name: same id, same secret), with any other declared difference."""
    name = AttributeChange("name", old_name, want.name)
    return Change(
        UPDATE, want.address, desired=want, actual=have, diff=[name, *diff], moved_from=have.address, reason=reason
    )


def _declared_diff(want: Resource, have: Resource) -> list[AttributeChange]:
    """The differences of declared attributes, less those ``ignore_changes`` leaves alone."""
    return [d for d in attribute_changes(want.kind, want.attrs, have.attrs) if not _ignored(want, d)]


def _ignored(want: Resource, diff: AttributeChange) -> bool:
    return diff.path.split(".", 1)[0] in want.ignore_changes


def attribute_changes(kind: str, want: dict[str, Any], have: dict[str, Any]) -> list[AttributeChange]:
    """Attribute-level diff of the declared attributes only (undeclared ones are not managed)."""
    out: list[AttributeChange] = []
    mutable = spec_of(kind).mutable
    for attr in sorted(want):
        after, before = want[attr], have.get(attr)
        forces = attr not in mutable
        if _same(before, after):
            continue  # the common case: no deepdiff needed
        if isinstance(after, dict) and isinstance(before, dict):
            out.extend(_nested_changes(attr, before, after, forces))
        elif not _equal(before, after):
            out.append(AttributeChange(attr, before, after, forces))
    return out


# ---------------------------------------------------------------------------------------------


def _compare(want: Resource, have: Resource | None) -> Change | None:
    if have is None:
        return Change(CREATE, want.address, desired=want)
    spec = spec_of(want.kind)
    diff = _declared_diff(want, have)
    forced = any(d.forces_replacement for d in diff)
    if have.observed.unrecorded:  # a key left under its pending name: nobody has its secret
        return Change(
            REPLACE, want.address, desired=want, actual=have, diff=diff, reason=SECRET_NEVER_RECORDED, repair=True
        )
    if have.observed.replaced and spec.rename is not None and not forced:
        # The replacement it was marked for is no longer wanted (the config went back): keep the
        # key, and give it its name back.
        renamed_back = f"{REPLACEMENT_UNFINISHED}; no longer needed: renamed back"
        return _renamed(want, have, replaced_name(want.name), diff, renamed_back)
    if have.observed.replaced or forced:  # replaced again (a marked key: its replacement is still wanted)
        reason = REPLACEMENT_UNFINISHED if have.observed.replaced else None
        # create-first kinds: consumers keep the old one until the new one exists
        return Change(
            REPLACE,
            want.address,
            desired=want,
            actual=have,
            diff=diff,
            reason=reason,
            create_first=spec.create_before_destroy,
        )
    return Change(UPDATE, want.address, desired=want, actual=have, diff=diff) if diff else None


def _equal(a: Any, b: Any) -> bool:
    return _same(a, b) or not _deepdiff(a, b)


def _same(a: Any, b: Any) -> bool:
    """Certainly equal in deepdiff's sense, cheaply: the same structure with exactly equal leaves
    (Python compares int and float exactly, 3 == 3.0; a bool equals only a bool). False means
    "maybe different": lists in another order, NaN, unknown types are left to deepdiff."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if isinstance(a, str) and isinstance(b, str) or a is None and b is None:
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return False


def _nested_changes(attr: str, before: dict[str, Any], after: dict[str, Any], forces: bool) -> list[AttributeChange]:
    from deepdiff.helper import notpresent

    out = []
    for report in _deepdiff(before, after, view="tree").values():
        for level in report:
            path = ".".join(str(p) for p in [attr, *level.path(output_format="list")])
            old = None if level.t1 is notpresent else level.t1
            new = None if level.t2 is notpresent else level.t2
            out.append(AttributeChange(path, old, new, forces))
    return sorted(out, key=lambda d: d.path)


def _deepdiff(before: Any, after: Any, **options: Any) -> Any:
    """deepdiff, exactly: 3 and 3.0 are one number, 2**53 + 1 is not 2**53, True is not 1.

    ``ignore_type_in_groups`` compares ints and floats by value (exactly, as Python does, also
    inside lists since deepdiff 9); ``ignore_type_subclasses`` keeps bool out of the int group.
    Imported here, not at module level: it costs ~90-170 ms, which commands that diff nothing
    (`--version`, `validate`) must not pay; ``_same`` settles equal values without it.
    """
    from deepdiff import DeepDiff

    return DeepDiff(
        _whole_numbers_as_int(before),
        _whole_numbers_as_int(after),
        ignore_order=True,
        ignore_type_in_groups=[(int, float)],
        ignore_type_subclasses=True,
        **options,
    )


def _whole_numbers_as_int(value: Any) -> Any:
    """``value`` with every whole float (2.0) as the int it equals, exactly: with ``ignore_order``
    deepdiff counts 2 and 2.0 apart when one list holds both ([1, 2, 2.0] is not [2.0, 1, 2.0])."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _whole_numbers_as_int(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_whole_numbers_as_int(v) for v in value]
    return value


def _cascade_pod_replacements(changes: dict[str, Change], desired: DesiredState, scope: _Scope) -> None:
    """A replaced pod takes its children with it: delete the existing ones, re-create the declared."""
    for pod_change in [c for c in changes.values() if c.action == REPLACE and _is_pod(c.address)]:
        prefix = pod_change.address + "/"
        why = f"{pod_change.address} is replaced"
        for address, have in scope.managed_actual.items():
            if not address.startswith(prefix):
                continue
            want = desired.resources.get(address)
            if want is None:
                changes[address] = Change(DELETE, address, actual=have, reason=why)
            else:
                existing = changes.get(address)
                diff = existing.diff if existing is not None else []
                changes[address] = Change(REPLACE, address, desired=want, actual=have, diff=diff, reason=why)


def _resolve_moves(changes: dict[str, Change], desired: DesiredState, actual: ActualState, scope: _Scope) -> None:
    """Declared inboxes/domains that exist under another address: move them, or refuse."""
    existing_by_identity = {_identity(r): r for r in actual.resources.values() if spec_of(r.kind).unique_name}
    problems = []
    for address, want in desired.resources.items():
        if not spec_of(want.kind).unique_name or address in actual.resources:
            continue
        have = existing_by_identity.get(_identity(want))
        if have is None:
            continue
        if have.address in scope.managed_actual:
            changes[have.address].reason = f"moves to {address}: a {want.kind} cannot change scope"
            changes[address].reason = f"moved from {have.address}"
        else:
            where = f"at {want.source}" if want.source else ""
            problems.append(
                f"{address} {where}: {want.kind} {want.name} already exists as "
                f"{have.address}, which mailctl does not manage (declare that pod, or "
                f"add it to `manage`)"
            )
    if problems:
        raise PlanError("cannot plan:\n  " + "\n  ".join(problems))


def _identity(resource: Resource) -> tuple[str, str]:
    """What the API keeps unique organisation-wide: the inbox address, the domain name."""
    return resource.kind, resource.name.lower()


class _Scope:
    """Which existing resources mailctl manages, and which it must leave alone."""

    def __init__(self, desired: DesiredState, actual: ActualState, renamed: set[str]):
        """``renamed``: existing addresses a ``moved`` block renames (managed wherever they are)."""
        manage = desired.manage
        moved_from = self._moved_from = {m.source_address for m in desired.moved}
        self.managed_pods: set[str] = set()
        self._undeclared_managed_pods: set[str] = set()
        self._unmanaged: list[str] = []
        for address, resource in actual.resources.items():
            if not _is_pod(address) or manage.ignore and manage.ignores(address):
                continue
            if address in desired.resources:
                self.managed_pods.add(address)
            elif desired.manage.manages_pod(resource.observed.client_id):
                self.managed_pods.add(address)
                self._undeclared_managed_pods.add(address)
            else:
                self._unmanaged.append(address)

        self.managed_actual: dict[str, Resource] = {}
        for address, resource in actual.resources.items():
            pod = resource.pod
            if manage.ignore and manage.ignores(address):
                self._unmanaged.append(address)  # made at runtime: never created, changed or deleted
            elif resource.observed.superseded and _rotating(resource, desired, moved_from):
                self._unmanaged.append(address)  # an older key mid-rotation: `rotate --retire-old`
            elif pod is not None:
                if pod_address(pod) in self.managed_pods:
                    self.managed_actual[address] = resource
            elif (
                address in desired.resources
                or address in renamed
                or _leftover_of(resource) in desired.resources
                or _leftover_of(resource) in moved_from  # the old half of a moved key's replacement
                or (spec_of(resource.kind).manages_scope and None in desired.list_scopes)
            ):
                self.managed_actual[address] = resource  # declared, or in the managed org lists
            else:
                self._unmanaged.append(address)

    def unmanaged(self) -> list[str]:
        return sorted(self._unmanaged)

    def delete_reason(self, resource: Resource) -> str:
        pod = resource.pod
        if pod is not None and pod_address(pod) in self._undeclared_managed_pods:
            if _is_pod(resource.address):
                return "not declared; matches manage.pods"
            return f"{pod_address(pod)} is removed"
        if resource.observed.unrecorded:
            return SECRET_NEVER_RECORDED
        if resource.observed.superseded:
            return f"not declared; an older key of {resource.observed.declared_address} (mid-rotation)"
        return OLD_HALF_OF_REPLACEMENT if self._new_key_exists(resource) else "not declared"

    def _new_key_exists(self, resource: Resource) -> bool:
        """The old half of a replacement whose new key exists: another key holds its name, or the
        replacement went to its ``moved`` address. Alone under its name and no longer declared, it
        is a key the user removed (counted by the thresholds), not a repair."""
        observed = resource.observed
        return observed.replaced and (
            observed.declared_address != resource.address or observed.declared_address in self._moved_from
        )


def _rotating(resource: Resource, desired: DesiredState, moved_from: set[str]) -> bool:
    """An older key of a name still declared: left for ``rotate --retire-old``. Once the name is
    removed from the config, its older keys go with the newest in the same apply (a removal that
    took one apply per key otherwise)."""
    declared = resource.observed.declared_address
    return declared in desired.resources or declared in moved_from


def _leftover_of(resource: Resource) -> str | None:
    """The declared address a leftover of an interrupted run belongs to (None for the rest)."""
    observed = resource.observed
    return observed.declared_address if observed.unrecorded or observed.replaced else None


def _is_repair(reason: str) -> bool:
    return reason in (SECRET_NEVER_RECORDED, OLD_HALF_OF_REPLACEMENT)


def _is_pod(address: str) -> bool:
    """A pod's own address: the top-level scope every other scope lives in."""
    return "/" not in address.partition("/")[2] and pod_of(address) is not None
