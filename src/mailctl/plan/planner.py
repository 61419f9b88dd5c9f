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
"""

from __future__ import annotations

from typing import Any

from mailctl.errors import PlanError
from mailctl.facts import StateFacts
from mailctl.kinds import spec_of
from mailctl.plan.changes import CREATE, DELETE, REPLACE, UPDATE, AttributeChange, Change, Plan
from mailctl.resources import (
    DOMAIN,
    INBOX,
    LIST_ENTRY,
    POD,
    ActualState,
    DesiredState,
    Resource,
    pod_address,
)

SECRET_NEVER_RECORDED = "secret never recorded"


def plan(desired: DesiredState, actual: ActualState, facts: StateFacts | None = None) -> Plan:
    """``facts`` (read with the state) say what each inbox the plan destroys holds."""
    scope = _Scope(desired, actual)
    result = Plan(
        unmanaged=scope.unmanaged(),
        managed_count=len(scope.managed_actual),
        labels={
            a: f'"{r.attrs["name"]}"'
            for a, r in actual.resources.items()
            if r.kind == POD and r.attrs.get("name") and not r.observed.client_id
        },
    )
    changes: dict[str, Change] = {}

    for address, want in desired.resources.items():
        have = actual.resources.get(address)
        change = _compare(want, have)
        if change is not None:
            changes[address] = change

    for address, have in scope.managed_actual.items():
        if address not in desired.resources:
            changes[address] = Change(DELETE, address, actual=have, reason=scope.delete_reason(have))

    _cascade_pod_replacements(changes, desired, scope)
    _resolve_moves(changes, desired, actual, scope)
    result.changes = sorted(changes.values(), key=lambda c: c.address)
    if facts is not None:
        _attach_data_at_risk(result, facts)
    return result


def _attach_data_at_risk(result: Plan, facts: StateFacts) -> None:
    """Deleting an inbox destroys its mail: what each doomed inbox holds, as read."""
    for change in result.changes:
        if change.kind == INBOX and change.destroys and change.actual is not None:
            change.data_at_risk = facts.inbox_data.get(change.actual.name)


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
    diff = attribute_changes(want.kind, want.attrs, have.attrs)
    if have.observed.unrecorded:  # a key left under its pending name: nobody has its secret
        return Change(REPLACE, want.address, desired=want, actual=have, diff=diff, reason=SECRET_NEVER_RECORDED)
    if not diff:
        return None
    action = REPLACE if any(d.forces_replacement for d in diff) else UPDATE
    return Change(action, want.address, desired=want, actual=have, diff=diff)


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
            # t1/t2 are canonical copies (whole floats as ints), never the caller's objects
            old = None if level.t1 is notpresent else level.t1
            new = None if level.t2 is notpresent else level.t2
            out.append(AttributeChange(path, old, new, forces))
    return sorted(out, key=lambda d: d.path)


def _deepdiff(before: Any, after: Any, **options: Any) -> Any:
    """deepdiff, exactly: 3 and 3.0 are one number, 2**53 + 1 is not 2**53, True is not 1.

    Imported here, not at module level: it costs ~170 ms, which commands that diff nothing
    (`--version`, `validate`) must not pay.
    """
    from deepdiff import DeepDiff

    # ints and floats compare by value (exactly, as Python compares them); ignore_type_subclasses
    # keeps bool out of the int group. Inside lists deepdiff compares hashes, which include the
    # type: _canonical writes whole floats as ints first (exact), so [3.0] equals [3] there too.
    return DeepDiff(
        _canonical(before),
        _canonical(after),
        ignore_order=True,
        ignore_type_in_groups=[(int, float)],
        ignore_type_subclasses=True,
        **options,
    )


def _canonical(value: Any) -> Any:
    """Plain builtins, whole floats as ints (3.0 -> 3, exact): only real differences remain."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, float):
        return int(value) if value.is_integer() else float(value)
    for plain in (bool, str, int):
        if isinstance(value, plain):
            return plain(value)
    return value


def _cascade_pod_replacements(changes: dict[str, Change], desired: DesiredState, scope: _Scope) -> None:
    """A replaced pod takes its children with it: delete the existing ones, re-create the declared."""
    for pod_change in [c for c in changes.values() if c.kind == POD and c.action == REPLACE]:
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
    existing_by_identity = {_identity(r): r for r in actual.resources.values() if r.kind in (INBOX, DOMAIN)}
    problems = []
    for address, want in desired.resources.items():
        if want.kind not in (INBOX, DOMAIN) or address in actual.resources:
            continue
        have = existing_by_identity.get(_identity(want))
        if have is None:
            continue
        if have.address in scope.managed_actual:
            changes[have.address].reason = f"moves to {address}: {want.kind}s cannot change scope"
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

    def __init__(self, desired: DesiredState, actual: ActualState):
        declared_pods = {a for a, r in desired.resources.items() if r.kind == POD}
        self.managed_pods: set[str] = set()
        self._undeclared_managed_pods: set[str] = set()
        self._unmanaged: list[str] = []
        for address, resource in actual.resources.items():
            if resource.kind != POD:
                continue
            if address in declared_pods:
                self.managed_pods.add(address)
            elif desired.manage.manages_pod(resource.observed.client_id):
                self.managed_pods.add(address)
                self._undeclared_managed_pods.add(address)
            else:
                self._unmanaged.append(address)

        self.managed_actual: dict[str, Resource] = {}
        for address, resource in actual.resources.items():
            pod = resource.pod
            if resource.observed.superseded:
                self._unmanaged.append(address)  # an older key mid-rotation: `rotate --retire-old`
            elif pod is not None:
                if pod_address(pod) in self.managed_pods:
                    self.managed_actual[address] = resource
            elif (
                address in desired.resources
                or _unrecorded_of(resource) in desired.resources
                or (resource.kind == LIST_ENTRY and None in desired.list_scopes)
            ):
                self.managed_actual[address] = resource  # declared, or in the managed org lists
            else:
                self._unmanaged.append(address)

    def unmanaged(self) -> list[str]:
        return sorted(self._unmanaged)

    def delete_reason(self, resource: Resource) -> str:
        pod = resource.pod
        if pod is not None and pod_address(pod) in self._undeclared_managed_pods:
            if resource.kind == POD:
                return "not declared; matches manage.pods"
            return f"{pod_address(pod)} is removed"
        return SECRET_NEVER_RECORDED if resource.observed.unrecorded else "not declared"


def _unrecorded_of(resource: Resource) -> str | None:
    """The declared address a leftover pending key was made for (None for every other resource)."""
    return resource.observed.declared_address if resource.observed.unrecorded else None
