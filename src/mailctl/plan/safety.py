"""Safety rails: why apply would refuse a plan, as data the plan carries (``Plan.refusals``).

Every format shows them (text, JSON ``refusals``, Markdown, GitHub annotations, saved plans) and
apply checks them after the plan is printed, so the user sees what tripped. Rules:

- ``threshold`` (octoDNS-style): updates, or deletes, above a fraction of the existing managed
  resources, once at least ``min_existing`` exist. A replacement counts as both a delete and an
  update. Repairs of an interrupted run's leftovers are not counted. ``--force`` lifts it.
- ``prevent_destroy``: a plan that deletes or replaces a guarded resource, whatever the reason.
  Only removing the guard lifts it.
- ``data_loss``: a plan that deletes or replaces a resource holding mail (an inbox with threads,
  messages or drafts; also one lost with its pod). ``--allow-data-loss`` lifts it, not ``--force``.
- ``protect``: a plan that deletes or replaces a resource ``manage.protect`` matches, declared or
  not. Only editing the rule lifts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NoReturn

from mailctl.errors import UnsafePlan
from mailctl.plan.changes import DELETE, REPLACE, UPDATE, Change, Plan, Refusal, Rule
from mailctl.resources import DesiredState

DEFAULT_MAX_CHANGE_FRACTION = 0.30
DEFAULT_MIN_EXISTING = 10
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


def refusals(plan: Plan, desired: DesiredState) -> list[Refusal]:
    """Every rail the plan trips, whatever flags apply is given (apply filters: :func:`blocking`)."""
    return [
        *guarded_destroys(plan, desired),
        *protected_destroys(plan, desired),
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


def _verb(change: Change) -> str:
    return "replace" if change.action == REPLACE else "delete"


def guarded_destroys(plan: Plan, desired: DesiredState) -> list[Refusal]:
    out = []
    for change in plan.changes:
        guard = desired.resources.get(change.address)
        if not change.destroys or guard is None or not guard.prevent_destroy:
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
        if not change.destroys or not desired.manage.protect:
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
