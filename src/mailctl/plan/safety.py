"""Safety rails: why apply would refuse a plan, as data the plan carries (``Plan.refusals``).

Every format shows them (text, JSON ``refusals``, Markdown, GitHub annotations, saved plans) and
apply checks them after the plan is printed, so the user sees what tripped. Rules:

- ``threshold`` (octoDNS-style): updates, or deletes, above a fraction of the existing managed
  resources, once at least ``min_existing`` exist. A replacement counts as both a delete and an
  update. Repairs of an interrupted run's leftovers are not counted. ``--force`` lifts it.
- ``prevent_destroy``: a plan that deletes or replaces a guarded resource, whatever the reason
  (but a key whose secret was never recorded: nobody can use it, and its replacement is a repair).
  Only removing the guard lifts it.
- ``data_loss``: a plan that deletes or replaces a resource holding mail (an inbox with threads,
  messages or drafts; also one lost with its pod). ``--allow-data-loss`` lifts it, not ``--force``.
- ``protect``: a plan that deletes or replaces a resource ``manage.protect`` matches, declared or
  not (but a key whose secret was never recorded, as above). Only editing the rule lifts it.
- ``ignored_children``: a plan that deletes or replaces a scope (a pod, an inbox) holding resources
  ``manage.ignore`` leaves alone, or what mailctl never manages (public-key credentials): they
  would go with it, or stop its delete half-way. Only editing the config, or removing them, lifts it.
- ``open_rotation``: a ``moved`` rename of a resource whose older versions are still superseded
  (a key mid-rotation): they would be left alone under the old name, no longer superseded, and the
  next plan would delete them. Only finishing the rotation (``rotate --retire-old``) lifts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from mailctl.errors import UnsafePlan
from mailctl.plan.changes import DELETE, REPLACE, UPDATE, Change, Plan, Refusal, Rule
from mailctl.resources import ActualState, DesiredState, ancestors, parent_of, pod_of

DEFAULT_MAX_CHANGE_FRACTION = 0.30
DEFAULT_MIN_EXISTING = 10
SHOWN = 3  # addresses a refusal names before it counts the rest
FORCE = "--force"
ALLOW_DATA_LOSS = "--allow-data-loss"


@dataclass(frozen=True)
class Thresholds:
    max_update_fraction: float = DEFAULT_MAX_CHANGE_FRACTION
    max_delete_fraction: float = DEFAULT_MAX_CHANGE_FRACTION
    min_existing: int = DEFAULT_MIN_EXISTING

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> Thresholds:
        safety = settings.get("safety") or {}
        common = safety.get("max_change_fraction", DEFAULT_MAX_CHANGE_FRACTION)
        return cls(
            max_update_fraction=safety.get("max_update_fraction", common),
            max_delete_fraction=safety.get("max_delete_fraction", common),
            min_existing=safety.get("min_existing", DEFAULT_MIN_EXISTING),
        )


def refusals(plan: Plan, desired: DesiredState, actual: ActualState) -> list[Refusal]:
    """Every rail the plan trips, whatever flags apply is given (apply filters: :func:`blocking`).
    ``actual`` is the state the plan was made from (what a narrowed plan read)."""
    return [
        *guarded_destroys(plan, desired),
        *protected_destroys(plan, desired),
        *ignored_children(plan, desired, actual),
        *open_rotations(plan, actual),
        *data_loss(plan),
        *threshold_violations(plan, Thresholds.from_settings(desired.settings)),
    ]


def blocking(found: list[Refusal], force: bool = False, allow_data_loss: bool = False) -> list[Refusal]:
    """The refusals the given flags do not lift."""
    lifted = {flag for flag, given in ((FORCE, force), (ALLOW_DATA_LOSS, allow_data_loss)) if given}
    return [r for r in found if r.lifted_by is None or r.lifted_by not in lifted]


def check(plan: Plan, force: bool = False, allow_data_loss: bool = False) -> None:
    """Raise UnsafePlan naming every rail the flags do not lift."""
    problems = blocking(plan.refusals, force, allow_data_loss)
    if problems:
        refuse(problems)


def refuse(refusals: list[Refusal]) -> NoReturn:
    """Apply stops here, before any change, naming every refusal."""
    raise UnsafePlan("refusing to apply (nothing was changed):\n  " + "\n  ".join(r.message for r in refusals))


def _why_destroyed(change: Change) -> str:
    if change.reason:
        return change.reason
    if change.replacement_causes:
        return f"{', '.join(change.replacement_causes)} forces replacement"
    return "it is no longer declared"


def _loses_nothing(change: Change) -> bool:
    """Whether what ``change`` destroys is a key left under its pending name by a killed apply: no
    one holds its secret, so guarding it would only keep every later apply from converging."""
    return change.actual is not None and change.actual.observed.unrecorded


def _verb(change: Change) -> str:
    return "replace" if change.action == REPLACE else "delete"


def guarded_destroys(plan: Plan, desired: DesiredState) -> list[Refusal]:
    out = []
    for change in plan.changes:
        guard = desired.resources.get(change.address)
        if not change.destroys or guard is None or not guard.prevent_destroy or _loses_nothing(change):
            continue
        where = f" (declared at {guard.source})" if guard.source else ""
        message = (
            f"{change.address} has prevent_destroy{where}, but the plan would {_verb(change)} it: "
            f"{_why_destroyed(change)}"
        )
        out.append(Refusal(Rule.PREVENT_DESTROY, message, (change.address,)))
    return out


def protected_destroys(plan: Plan, desired: DesiredState) -> list[Refusal]:
    out = []
    for change in plan.changes:
        if not change.destroys or not desired.manage.protect or _loses_nothing(change):
            continue
        # What is destroyed may live at another address than the change's: a key replaced through
        # a ``moved`` block is planned at its new address and destroys the one it moves from.
        old = change.actual.address if change.actual is not None else None
        gone = [a for a in dict.fromkeys((change.address, change.moved_from, old)) if a]
        hit = next(((a, g) for a in gone if (g := desired.manage.protects(a))), None)
        if hit is None:
            continue
        address, glob = hit
        via = f" (as {change.address})" if address != change.address else ""
        message = (
            f"{address} is protected by manage.protect `{glob}`, but the plan would {_verb(change)} "
            f"it{via}: {_why_destroyed(change)} (no flag lifts this: edit the rule to allow it)"
        )
        out.append(Refusal(Rule.PROTECT, message, (change.address,)))
    return out


def ignored_children(plan: Plan, desired: DesiredState, actual: ActualState) -> list[Refusal]:
    """One refusal per outermost scope the plan destroys that holds what mailctl leaves alone:
    resources ``manage.ignore`` matches, and what it never manages at all (public-key credentials,
    ``ActualState.left_alone``). mailctl never deletes those, so destroying their scope would take
    them with it (or fail half-way, its other children already gone, for ever after)."""
    manage = desired.manage
    destroyed = {c.actual.address: c for c in plan.changes if c.destroys and c.actual is not None}
    if not destroyed or not (manage.ignore or actual.left_alone):
        return []

    def outermost_destroyed(scope: str | None) -> str | None:
        return next((s for s in reversed(ancestors(scope)) if s in destroyed), None)

    ignored: dict[str, list[str]] = {}
    if manage.ignore:
        pods = {pod_of(a) for a in destroyed}  # a cheap first look: most resources are in other pods
        for address in actual.resources:
            if pod_of(address) in pods and manage.ignores(address):
                if (scope := outermost_destroyed(parent_of(address))) is not None:
                    ignored.setdefault(scope, []).append(address)
    unmanageable: dict[str, list[str]] = {}
    for holder, things in actual.left_alone.items():
        if (scope := outermost_destroyed(holder)) is not None:
            unmanageable.setdefault(scope, []).extend(things)
    out = []
    for scope in sorted({*ignored, *unmanageable}):
        change = destroyed[scope]
        parts = []
        if scope in ignored:
            parts.append(
                f"{len(ignored[scope])} resource(s) that manage.ignore leaves alone ({_few(sorted(ignored[scope]))})"
            )
        if scope in unmanageable:
            things = sorted(unmanageable[scope])
            parts.append(f"{len(things)} thing(s) mailctl never manages ({_few(things)})")
        message = (
            f"{scope} holds {' and '.join(parts)}, but the plan would {_verb(change)} it: {_why_destroyed(change)}. "
            f"They would go with it, or stop its delete half-way: remove them first (they were made "
            f"outside mailctl), or change the config so that {scope} stays (no flag lifts this)"
        )
        out.append(Refusal(Rule.IGNORED_CHILDREN, message, (change.address,)))
    return out


def open_rotations(plan: Plan, actual: ActualState) -> list[Refusal]:
    """A ``moved`` rename of a resource whose older versions are superseded (a key mid-rotation:
    same name, older): they keep the old name, alone, so they would no longer be superseded and
    the next plan would delete them while consumers may still use them."""
    renamed = {c.moved_from: c for c in plan.changes if c.moved_from not in (None, c.address)}
    if not renamed:
        return []
    older: dict[str, list[str]] = {}
    for resource in actual.resources.values():
        of = resource.observed.declared_address
        if resource.observed.superseded and of in renamed:
            older.setdefault(of, []).append(resource.address)
    out = []
    for old, addresses in sorted(older.items()):
        change = renamed[old]
        message = (
            f"{old} has {len(addresses)} older key(s) still in rotation ({_few(sorted(addresses))}), but the "
            f"plan renames it to {change.address} ({change.reason}): they would keep the old name alone, and "
            f"the next plan would delete them. Finish the rotation first, once consumers have switched: "
            f"`mailctl rotate {old} --retire-old` with the config that still declares it, then apply the "
            f"move (no flag lifts this)"
        )
        out.append(Refusal(Rule.OPEN_ROTATION, message, (change.address,)))
    return out


def _few(addresses: list[str]) -> str:
    """The first addresses, then how many more."""
    shown = ", ".join(addresses[:SHOWN])
    return shown if len(addresses) <= SHOWN else f"{shown} and {len(addresses) - SHOWN} more"


def data_loss(plan: Plan) -> list[Refusal]:
    """One refusal naming every resource the plan destroys that holds mail, with its counts."""
    doomed = [c for c in plan.changes if c.destroys and c.held]
    if not doomed:
        return []
    held = "; ".join(f"{c.address} ({c.held}; {_why_destroyed(c)})" for c in doomed)
    message = (
        f"the plan would permanently destroy mail: {held}. Pass {ALLOW_DATA_LOSS} to apply anyway "
        f"(--force and --auto-approve do not)"
    )
    return [Refusal(Rule.DATA_LOSS, message, tuple(c.address for c in doomed), ALLOW_DATA_LOSS)]


def unseen_mail(plan: Plan, why: str) -> list[Refusal]:
    """One refusal naming every inbox the plan destroys whose mail the run's key may not all see
    (``why``: it lacks a ``label_*_read`` flag): what it counted there is a floor, not the count."""
    if not why:
        return []
    doomed = [c for c in plan.changes if c.destroys_mail_holder]
    if not doomed:
        return []
    message = (
        f"the plan would delete {', '.join(c.address for c in doomed)}, whose mail this API key may not all see "
        f"({why}: mail labelled trash, spam, blocked or unauthenticated is not listed to it), so it could destroy "
        f"mail the plan does not show. Plan with a key that holds those permissions, or pass {ALLOW_DATA_LOSS} "
        f"to apply anyway"
    )
    return [Refusal(Rule.DATA_LOSS, message, tuple(c.address for c in doomed), ALLOW_DATA_LOSS)]


def messages_at_risk(plan: Plan) -> int:
    """How many messages the plan destroys: what the data-loss prompt asks the user to type. An
    inbox holding only drafts (no messages) counts its drafts, so the number is never 0."""
    held = [c.data_at_risk or {} for c in plan.changes if c.destroys]
    messages = sum(h.get("messages", 0) for h in held)
    return messages or sum(h.get("drafts", 0) + h.get("threads", 0) for h in held)


def threshold_violations(plan: Plan, thresholds: Thresholds) -> list[Refusal]:
    existing = plan.managed_count
    if existing < thresholds.min_existing or existing == 0:  # nothing exists: nothing to update or delete
        return []
    counted = [c for c in plan.changes if not c.repair]
    deletes = [c.address for c in counted if c.action in (DELETE, REPLACE)]  # a replacement deletes
    updates = [c.address for c in counted if c.action in (UPDATE, REPLACE)]
    out = []
    for what, addresses, limit in (
        ("delete", deletes, thresholds.max_delete_fraction),
        ("update", updates, thresholds.max_update_fraction),
    ):
        n = len(addresses)
        if n / existing > limit:
            message = (
                f"the plan would {what} {n} of {existing} existing managed resources ({n / existing:.0%}), "
                f"above the {limit:.0%} threshold (use --force to apply anyway, or raise settings.safety)"
            )
            out.append(Refusal(Rule.THRESHOLD, message, tuple(addresses), FORCE))
    return out


def repairs_note(plan: Plan) -> str | None:
    repairs = [c for c in plan.changes if c.repair]
    if not repairs:
        return None
    return (
        f"{len(repairs)} change(s) repair what an interrupted apply left behind (keys whose secret "
        f"was never recorded, old keys of an unfinished replacement): not counted by the safety thresholds"
    )
