"""Safety rails, checked after the plan is printed so the user sees what tripped them.

- ``prevent_destroy``: a plan that deletes or replaces a guarded resource fails, whatever the
  reason (its pod removed or replaced, an immutable attribute changed, an inbox moved).
  Only removing the guard from the config lets it through; ``--force`` does not.
- thresholds (octoDNS-style): refuse when updates, or deletes (replacements count as both),
  exceed a fraction of the existing managed resources; only when at least ``min_existing``
  exist. ``--force`` overrides. Configurable in ``settings.safety``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mailctl.errors import UnsafePlan
from mailctl.plan.changes import DELETE, REPLACE, UPDATE, Plan
from mailctl.resources import DesiredState

DEFAULT_MAX_CHANGE_FRACTION = 0.30
DEFAULT_MIN_EXISTING = 10


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


def guarded_destroys(plan: Plan, desired: DesiredState) -> list[str]:
    """Every guarded resource the plan would destroy, with why."""
    problems = []
    for change in plan.changes:
        if not change.destroys:
            continue
        guard = desired.resources.get(change.address)
        if guard is None or not guard.prevent_destroy:
            continue
        why = change.reason or (
            f"{', '.join(change.replacement_causes)} forces replacement"
            if change.replacement_causes
            else "it is no longer declared"
        )
        where = f" (declared at {guard.source})" if guard.source else ""
        problems.append(
            f"{change.address} has prevent_destroy{where}, but the plan would "
            f"{'replace' if change.action == REPLACE else 'delete'} it: {why}"
        )
    return problems


def threshold_violations(plan: Plan, thresholds: Thresholds) -> list[str]:
    existing = plan.managed_count
    if existing < thresholds.min_existing:
        return []
    counts = plan.counts()
    deletes = counts[DELETE] + counts[REPLACE]
    updates = counts[UPDATE] + counts[REPLACE]
    out = []
    for what, n, limit in (
        ("delete", deletes, thresholds.max_delete_fraction),
        ("update", updates, thresholds.max_update_fraction),
    ):
        if n / existing > limit:
            out.append(
                f"the plan would {what} {n} of {existing} existing managed resources "
                f"({n / existing:.0%}), above the {limit:.0%} threshold"
            )
    return out


def warnings(plan: Plan, desired: DesiredState, force: bool = False) -> list[str]:
    """Every rail the plan trips. ``force`` lifts the thresholds, never prevent_destroy."""
    problems = guarded_destroys(plan, desired)
    if not force:
        problems += [
            f"{p} (use --force to apply anyway, or raise settings.safety)"
            for p in threshold_violations(plan, Thresholds.from_settings(desired.settings))
        ]
    return problems


def check(plan: Plan, desired: DesiredState, force: bool) -> None:
    """Raise UnsafePlan naming every rail that trips."""
    problems = warnings(plan, desired, force)
    if problems:
        raise UnsafePlan("refusing to apply:\n  " + "\n  ".join(problems))
