"""A plan is data: a list of changes, each saying what happens to one address and why.

Printing a plan (``render``), checking it (``safety``) and executing it (``mailctl.apply``) are
separate steps that consume these objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mailctl.kinds import spec_of
from mailctl.resources import Resource, kind_of


class Action(StrEnum):
    """What a change does to its address. A str: JSON, text and comparisons see the bare word."""

    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"


CREATE, UPDATE, REPLACE, DELETE = Action.CREATE, Action.UPDATE, Action.REPLACE, Action.DELETE
ACTIONS = tuple(Action)


@dataclass(frozen=True)
class AttributeChange:
    """One attribute-level difference. ``path`` is dotted: ``metadata.tier``."""

    path: str
    before: Any
    after: Any
    forces_replacement: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "before": self.before,
            "after": self.after,
            "forces_replacement": self.forces_replacement,
        }


@dataclass
class Change:
    action: Action
    address: str
    desired: Resource | None = None  # what the config declares (None for deletes)
    actual: Resource | None = None  # what the API has (None for creates)
    diff: list[AttributeChange] = field(default_factory=list)
    reason: str | None = None  # why, when it is not obvious ("pod tenant-a is being replaced")
    data_at_risk: dict[str, int] | None = None  # deleted inboxes: threads / messages / drafts held
    moved_from: str | None = None  # a rename in place (``moved:``): the address it is renamed from
    repair: bool = False  # removes a leftover of an interrupted run: not counted by the thresholds
    create_first: bool = False  # a replacement that creates the new one before deleting the old
    owner: str | None = None  # a create another shard makes ("1/3"): this shard only waits for it

    @property
    def kind(self) -> str:
        return kind_of(self.address)

    @property
    def before(self) -> dict[str, Any] | None:
        return dict(self.actual.attrs) if self.actual is not None else None

    @property
    def after(self) -> dict[str, Any] | None:
        return dict(self.desired.attrs) if self.desired is not None else None

    @property
    def replacement_causes(self) -> list[str]:
        return [d.path for d in self.diff if d.forces_replacement]

    @property
    def held(self) -> str:
        """What the resource holds that goes with it ("3 threads, 7 messages, 1 drafts"), or ""."""
        counts = self.data_at_risk or {}
        return counted(counts) if any(counts.values()) else ""

    @property
    def destroys(self) -> bool:
        """True when the existing object goes away (delete, or the delete half of a replace)."""
        return self.action in (DELETE, REPLACE)

    @property
    def destroys_mail_holder(self) -> bool:
        """True when what goes away is an existing object that may hold mail (an inbox): what the
        data-loss rail counts."""
        return self.destroys and self.actual is not None and spec_of(self.kind).holds_data


def counted(counts: dict[str, int]) -> str:
    """``{"threads": 3, "messages": 7}`` as people read it: "3 threads, 7 messages"."""
    return ", ".join(f"{n} {what}" for what, n in counts.items())


class Rule(StrEnum):
    """The safety rail behind a refusal (``refusals[].rule`` in JSON plans)."""

    THRESHOLD = "threshold"
    PREVENT_DESTROY = "prevent_destroy"
    DATA_LOSS = "data_loss"
    PROTECT = "protect"
    IGNORED_CHILDREN = "ignored_children"  # a scope deleted or replaced holds what manage.ignore keeps
    OPEN_ROTATION = "open_rotation"  # a ``moved`` rename of a key whose older keys are still in rotation
    UNSAVED_VALUE = "unsaved_value"  # a saved plan must send a literal write-only value it cannot hold


@dataclass(frozen=True)
class Refusal:
    """Why apply would refuse this plan, and which flag (if any) lifts it."""

    rule: Rule
    message: str
    addresses: tuple[str, ...] = ()
    lifted_by: str | None = None  # "--force", "--allow-data-loss", or None: only editing the config

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "message": self.message,
            "addresses": list(self.addresses),
            "lifted_by": self.lifted_by,
        }


def selected(selection: Iterable[tuple[str, str]], quote: Callable[[str], str] = str) -> str:
    """A selection (``Plan.selection``) as flags; a flag given many times (``--changed-since``
    after a template edit targets every tenant) is counted, not listed."""
    by_flag: dict[str, list[str]] = {}
    for flag, value in selection:
        by_flag.setdefault(flag, []).append(value)
    parts = []
    for flag, values in by_flag.items():
        if len(values) > 3:
            parts.append(f"{len(values)} {flag} patterns")
        else:
            parts += [f"{flag} {quote(value)}" for value in values]
    return " ".join(parts)


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    unmanaged: list[str] = field(default_factory=list)  # existing, undeclared, outside `manage`
    labels: dict[str, str] = field(default_factory=dict)  # address -> what people call it (pod names)
    notes: list[str] = field(default_factory=list)  # things the reviewer should know (waits, no-op targets)
    managed_count: int = 0  # existing resources mailctl manages (denominator for safety thresholds)
    refusals: list[Refusal] = field(default_factory=list)  # what apply would refuse, without flags
    # Creates of other shards this shard's changes need (``Change.owner`` set): waited for, not made.
    awaited: list[Change] = field(default_factory=list)
    # What narrowed the plan, as (flag, value): ("--target", "pod/a"), ("--shard", "2/4"). Empty:
    # the whole config. A plan without changes then vouches for that part only.
    selection: tuple[tuple[str, str], ...] = ()

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {action: 0 for action in ACTIONS}
        for change in self.changes:
            out[change.action] += 1
        return out

    def selected(self, quote: Callable[[str], str] = str) -> str:
        return selected(self.selection, quote)

    def by_address(self) -> dict[str, Change]:
        return {c.address: c for c in self.changes}

    def summary(self, quote: Callable[[str], str] = str) -> str:
        """One line; ``quote`` shows each selected pattern (escaped for a terminal or Markdown)."""
        c = self.counts()
        if not self.changes:
            if self.selection:
                within = self.selected(quote)
                return f"No changes. Within {within}, the actual state matches the configuration."
            return "No changes. The actual state matches the configuration."
        return f"Plan: {c[CREATE]} to add, {c[UPDATE]} to change, {c[REPLACE]} to replace, {c[DELETE]} to destroy."
