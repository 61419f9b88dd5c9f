"""Saved plans (``plan --out``): exactly the changes a reviewer approved, or nothing.

A plan file records the mailctl version and plan-file format that wrote it, the desired state it
was planned from, the --target/--exclude filters, the plan's changes (as ``plan --json`` prints
them) and a digest per address of the actual state it depends on (all of it for a whole plan, a
targeted plan's own part: see ``plan.digests``). ``apply PLANFILE`` refuses a file written by
another mailctl version or format, then (holding the apply lock) re-reads the actual state, plans
again from the recorded desired state and refuses, naming every difference, unless each change
computed now is identical to the recorded one (address, action, reason, attribute diffs, before and
after, data at risk) and the state it depends on is the one the plan was made from. What runs is
then exactly the recorded list of changes. Secrets are never part of either state, so they never
reach a plan file. Nor do write-only values (webhook header values): the desired state records where
each came from, ``{env: NAME}`` (read again by ``apply PLANFILE``) or ``{literal: true}`` (its
value dropped: a plan that must send one is refused before any change).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from typing import Any, NoReturn

from mailctl import __version__, atomic, local_path, strict_json
from mailctl.config import schema
from mailctl.config.loader import Document
from mailctl.errors import UnsafePlan, UsageError
from mailctl.kinds import spec_of
from mailctl.local_path import NotRegularFile, read_regular
from mailctl.plan.changes import UPDATE, Plan, Refusal, Rule
from mailctl.plan.digests import depended_on, fingerprint, state_digests
from mailctl.plan.render import FORMAT_VERSION, change_to_json, plan_to_json
from mailctl.plan.shards import Shard
from mailctl.resources import (
    KINDS,
    ActualState,
    DesiredState,
    ManagePolicy,
    Moved,
    Resource,
    Source,
    WriteOnly,
    join_address,
    parent_of,
    split_address,
)

PLANFILE_FORMAT = "mailctl-plan/1"
_FORMAT_FAMILY = "mailctl-plan/"
_MAX_LINES = 50  # of differences named in a refusal; the rest are counted
MAX_PLANFILE_BYTES = 256 * 1024 * 1024  # far above a 10,000-tenant plan; read no further


def save(
    path: str,
    plan: Plan,
    desired: DesiredState,
    actual: ActualState,
    targets: list[str],
    excludes: list[str],
    config_paths: list[str] | None = None,
) -> None:
    digests = RecordedPlan.of(plan, desired, actual, targets, excludes).digests
    document = {
        "format": PLANFILE_FORMAT,
        "mailctl_version": __version__,
        "state_fingerprint": fingerprint(digests),
        "state_digests": digests,
        "targets": targets,
        "excludes": excludes,
        "config_paths": config_paths or [],  # only for the "plan again" hint
        "desired": _desired_to_json(desired),
        "plan": plan_to_json(plan),
    }
    try:
        atomic.write_text(path, json.dumps(document, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write plan file {path}: {exc.strerror}") from None


class RecordedPlan:
    """An approved plan: its changes as recorded, the state digests and filters it was made with.
    ``check_fresh`` refuses to execute anything else. Made in memory (:meth:`of`, the Python API)
    or read from a plan file (:class:`SavedPlan`)."""

    path: str  # the file, or what messages call an in-memory plan
    what: str = ""  # how messages name it: "saved plan PATH", "the approved plan"
    replan: str  # how to make a fresh one
    digests: dict[str, str]
    targets: list[str]
    excludes: list[str]
    desired: DesiredState
    changes: dict[str, dict[str, Any]]
    shard: Shard | None = None  # a shard's plan records (and compares) only the shard's own part
    # The rails the plan tripped when it was made: (rule, addresses). The same desired and actual
    # state trip the same ones again, so a difference means the file was edited (its desired state).
    refusals: frozenset[tuple[str, tuple[str, ...]]] = frozenset()

    @classmethod
    def of(
        cls,
        plan: Plan,
        desired: DesiredState,
        actual: ActualState,
        targets: list[str],
        excludes: list[str],
        label: str = "the approved plan",
        replan: str = "Project.plan()",
        shard: Shard | None = None,
    ) -> RecordedPlan:
        recorded = cls()
        recorded.path, recorded.replan, recorded.what = label, replan, label
        recorded.shard = shard
        recorded.targets, recorded.excludes, recorded.desired = list(targets), list(excludes), desired
        document = plan_to_json(plan)
        recorded.changes = {c["address"]: c for c in document["changes"]}
        recorded.refusals = _refusals_of(document["refusals"])
        recorded.digests = recorded._digests(actual)
        return recorded

    def check_fresh(self, actual: ActualState, plan: Plan | None = None) -> None:
        """Refuse unless ``plan`` (computed now) has exactly the recorded changes and the actual
        state is the one the file was planned from; name every difference."""
        changed = plan_differences(self.changes, plan) if plan is not None else []
        if plan is not None:
            changed += self._refusal_differences(plan)
        moved = self._state_differences(actual)
        if not changed and not moved:
            self._check_values_known(plan)
            return
        parts = []
        if changed:
            parts.append("the plan computed now differs from the one recorded:\n" + _listing(changed))
        if moved:
            parts.append("the actual state changed since it was made:\n" + _listing(moved))
        raise UnsafePlan(
            f"{self.what or f'saved plan {self.path}'} is stale: "
            + "\nand ".join(parts)
            + f"\nNothing was changed. Run `{self.replan}` again."
        )

    def _refusal_differences(self, plan: Plan) -> list[str]:
        now = _refusals_of([{**r.to_json(), "rule": str(r.rule)} for r in plan.refusals])
        lines = [
            f"  + refusal {rule} of {', '.join(a)}: computed now, not recorded"
            for rule, a in sorted(now - self.refusals)
        ]
        return lines + [
            f"  - refusal {rule} of {', '.join(a)}: recorded, not computed now"
            for rule, a in sorted(self.refusals - now)
        ]

    def _check_values_known(self, plan: Plan | None) -> None:
        """Refuse a plan that must send write-only values this file does not hold (a literal of
        the config) or whose environment variable is not set now; never send a wrong one."""
        lines = []
        for change in plan.changes if plan is not None else []:
            if change.desired is None:
                continue
            changed = {d.path.split(".", 1)[0] for d in change.diff}
            actual = change.actual if change.action == UPDATE else None
            for attr, values in spec_of(change.kind).values_to_send(change.desired, actual, changed).items():
                lines += [
                    f"  {change.address}: {_unknown(attr, name, v)}" for name, v in values.items() if v.value is None
                ]
        if lines:
            raise UnsafePlan(
                f"{self.what or f'saved plan {self.path}'} must send values it cannot hold:\n"
                + _listing(lines)
                + "\nNothing was changed. A plan file records only where such values come from: declare "
                "them as {env: VARIABLE} and set each variable where the plan is applied, or apply without a "
                "plan file."
            )

    def _digests(self, actual: ActualState) -> dict[str, str]:
        """The digests of the part of the state the plan depends on (``plan.digests``): all of it
        for a whole plan; for a targeted or sharded one, its own part, so work elsewhere (another
        tenant's signup, the other shards) does not make it stale."""
        return state_digests(actual, depended_on(self.desired, self.targets, self.shard, self.changes))

    def _state_differences(self, actual: ActualState) -> list[str]:
        now = self._digests(actual)
        if fingerprint(now) == fingerprint(self.digests):
            return []
        added = sorted(set(now) - set(self.digests))
        removed = sorted(set(self.digests) - set(now))
        changed = sorted(a for a in set(now) & set(self.digests) if now[a] != self.digests[a])
        lines = [f"  + {a} (appeared)" for a in added] + [f"  - {a} (disappeared)" for a in removed]
        return lines + [f"  ~ {a} (changed)" for a in changed]


class SavedPlan(RecordedPlan):
    def __init__(self, path: str, replan: Callable[[list[str], list[str], list[str]], str] | None = None):
        """``replan(config_paths, targets, excludes)``: the command that makes a fresh plan file
        from the config and filters the file was planned with, as the CLI prints it (with the
        user's connection flags); messages that refuse the file end with it."""
        self.path = path
        document = _read(path)
        paths = document.get("config_paths")
        self.config_paths = [str(p) for p in paths] if isinstance(paths, list) else []
        filters = [document.get(key) for key in ("targets", "excludes")]
        targets, excludes = ([str(p) for p in f] if isinstance(f, list) else [] for f in filters)
        self.replan = (replan or (lambda *_: f"mailctl plan --out {path}"))(self.config_paths, targets, excludes)
        _check_written_by_this_mailctl(path, document, self.replan)
        try:
            self.digests = dict(document["state_digests"])
            self.targets = list(_strings(document.get("targets", []), "targets"))
            self.excludes = list(_strings(document.get("excludes", []), "excludes"))
            self.desired = _desired_from_json(_mapping(document["desired"], "desired"))
            changes = [_mapping(c, "plan.changes[]") for c in _list(document["plan"]["changes"], "plan.changes")]
            self.changes = {_string(c["address"], "plan.changes[].address"): c for c in changes}
            self.refusals = _refusals_of(_list(document["plan"].get("refusals", []), "plan.refusals"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UsageError(
                f"{path} is not a valid mailctl plan file ({type(exc).__name__}: {exc}); run `{self.replan}` again"
            ) from None


def _refusals_of(rows: list[Any]) -> frozenset[tuple[str, tuple[str, ...]]]:
    """(rule, addresses) of each refusal as plan JSON records it; ``unsaved_value`` left out (it is
    added when a plan is saved, and checked again by ``_check_values_known``)."""
    out = set()
    for row in rows:
        refusal = _mapping(row, "plan.refusals[]")
        rule = _string(refusal.get("rule"), "plan.refusals[].rule")
        if rule != Rule.UNSAVED_VALUE:
            out.add((rule, tuple(_strings(refusal.get("addresses", []), "plan.refusals[].addresses"))))
    return frozenset(out)


def plan_differences(recorded: dict[str, dict[str, Any]], plan: Plan) -> list[str]:
    """Every way the changes planned now differ from the recorded ones, one line each."""
    now = {c.address: _as_recorded(change_to_json(c)) for c in plan.changes}
    lines = []
    for address in sorted(set(recorded) | set(now)):
        saved, current = recorded.get(address), now.get(address)
        if current is None:
            lines.append(f"  - {address}: {_field(saved, 'action')} is recorded, no longer planned")
        elif saved is None:
            lines.append(f"  + {address}: {current['action']} is planned now, not recorded")
        elif _exact(saved) != _exact(current):
            lines += [f"  ~ {address}: {what}" for what in _change_differences(saved, current)]
    return lines


def _change_differences(saved: dict[str, Any], now: dict[str, Any]) -> list[str]:
    out = [
        f"{key} {_exact(saved.get(key))} (recorded) -> {_exact(now.get(key))} (now)"
        for key in ("action", "reason", "data_at_risk")
        if _exact(saved.get(key)) != _exact(now.get(key))
    ]
    saved_diff, now_diff = _diff_by_path(saved), _diff_by_path(now)
    for path in sorted(set(saved_diff) | set(now_diff)):
        if _exact(saved_diff.get(path)) != _exact(now_diff.get(path)):
            out.append(f"{path}: {_describe(saved_diff.get(path))} (recorded), {_describe(now_diff.get(path))} (now)")
    for side in ("before", "after"):
        old, new = saved.get(side) or {}, now.get(side) or {}
        if not isinstance(old, dict) or not isinstance(new, dict):
            old, new = {"": old}, {"": new}
        out += [
            f"{side}.{key}: {_exact(old.get(key))} (recorded) -> {_exact(new.get(key))} (now)"
            for key in sorted(set(old) | set(new), key=str)
            if _exact(old.get(key)) != _exact(new.get(key))
        ]
    if not out:  # derived fields (kind, forces_replacement) or fields this version does not know
        out = [
            f"{key} differs" for key in sorted(set(saved) | set(now)) if _exact(saved.get(key)) != _exact(now.get(key))
        ]
    return out


def _diff_by_path(change: dict[str, Any]) -> dict[str, Any]:
    rows = change.get("diff", [])
    if not isinstance(rows, list):  # a hand-edited file: a difference like any other
        return {"diff": rows}
    return {str(row.get("path")) if isinstance(row, dict) else str(row): row for row in rows}


def _describe(row: Any) -> str:
    if row is None:
        return "unchanged"
    if not isinstance(row, dict):
        return _exact(row)
    forces = " (forces replacement)" if row.get("forces_replacement") else ""
    return f"{_exact(row.get('before'))} -> {_exact(row.get('after'))}{forces}"


def _field(change: dict[str, Any] | None, key: str) -> str:
    return str((change or {}).get(key))


def _as_recorded(value: Any) -> Any:
    """What a value reads as once written to and read back from a plan file (JSON)."""
    return json.loads(json.dumps(value))


def _exact(value: Any) -> str:
    """Compare as text: in Python 1 == 1.0 == True, in a plan they are three different values."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _listing(lines: list[str]) -> str:
    more = len(lines) - _MAX_LINES
    return "\n".join(lines[:_MAX_LINES] + ([f"  ... and {more} more"] if more > 0 else []))


def _read(path: str) -> dict[str, Any]:
    _refuse_foreign(path)
    try:
        raw = read_regular(path, MAX_PLANFILE_BYTES + 1)  # a FIFO is refused, never waited on
    except NotRegularFile as exc:
        raise UsageError(f"plan file {path} is not a regular file ({exc.kind}) (nothing was changed)") from None
    except OSError as exc:
        raise UsageError(f"cannot read plan file {path}: {exc.strerror}") from None
    if len(raw) > MAX_PLANFILE_BYTES:
        raise UsageError(f"plan file {path} is larger than any mailctl plan ({MAX_PLANFILE_BYTES:,} bytes at most)")
    try:
        document = strict_json.loads(raw.decode("utf-8"))
    except strict_json.NotFinite as exc:
        raise UsageError(f"{path} is not a mailctl plan file ({str(exc)[:40]!r} is not a finite number)") from None
    except strict_json.TooDeep:
        raise UsageError(f"{path} is not a mailctl plan file (nested too deeply)") from None
    except ValueError:
        raise UsageError(f"{path} is not a mailctl plan file (not JSON)") from None
    if not isinstance(document, dict) or not str(document.get("format", "")).startswith(_FORMAT_FAMILY):
        raise UsageError(f"{path} is not a mailctl plan file (expected format {PLANFILE_FORMAT})")
    return document


def _refuse_foreign(path: str) -> None:
    """A plan file holds the desired state apply executes: whoever can write it chooses the
    changes. Refuse one reached through another user's link, owned by another user (root
    excepted), or writable by everyone."""

    def refuse(why: str) -> NoReturn:
        raise UsageError(f"plan file {path}: {why} (nothing was changed)")

    followed = local_path.follow(path, refuse)
    info = followed.info
    if info is None:
        return  # reading it says it does not exist
    if info.st_uid not in (os.geteuid(), 0):
        refuse(f"is owned by uid {info.st_uid}, not by you: another user could have chosen its changes")
    if info.st_mode & stat.S_IWOTH:
        refuse("is writable by every user, who could have chosen its changes: chmod o-w it, or plan again")


def _check_written_by_this_mailctl(path: str, document: dict[str, Any], replan: str) -> None:
    """A plan is only as exact as the code that made it: another version may plan differently."""
    plan: dict[str, Any] = document["plan"] if isinstance(document.get("plan"), dict) else {}
    found = {
        "plan-file format": (document.get("format"), PLANFILE_FORMAT),
        "mailctl version": (document.get("mailctl_version"), __version__),
        "plan format_version": (plan.get("format_version"), FORMAT_VERSION),
        "plan mailctl_version": (plan.get("mailctl_version"), __version__),
    }
    wrong = [f"{what} {have!r} (this mailctl: {want!r})" for what, (have, want) in found.items() if have != want]
    if wrong:
        raise UnsafePlan(
            f"saved plan {path} was not written by this mailctl ({__version__}, "
            f"{PLANFILE_FORMAT}): "
            + "; ".join(wrong)
            + f". Nothing was changed. Run `{replan}` again with this mailctl."
        )


def unsaved_values(plan: Plan) -> list[Refusal]:
    """Write-only values the plan must send that are literals of the config: a plan file never
    holds them, so ``apply PLANFILE`` will refuse. ``plan --out`` adds this to the plan's own
    refusals, so every format shows it and the file records it."""
    out = []
    for change in plan.changes:
        if change.desired is None:
            continue
        changed = {d.path.split(".", 1)[0] for d in change.diff}
        actual = change.actual if change.action == UPDATE else None
        for attr, values in spec_of(change.kind).values_to_send(change.desired, actual, changed).items():
            out += [
                Refusal(
                    Rule.UNSAVED_VALUE,
                    f"{change.address}: {_unknown(attr, name, v)}, so apply of the saved plan will refuse "
                    f"(use {{env: VARIABLE}})",
                    (change.address,),
                )
                for name, v in values.items()
                if v.env is None
            ]
    return out


def _unknown(attr: str, name: str, value: WriteOnly) -> str:
    if value.env is None:
        return f"{attr} `{name}` has a literal value in the config, which a plan file never holds"
    return f"{attr} `{name}` takes its value from environment variable `{value.env}`, which is not set"


def _write_only_to_json(resource: Resource) -> dict[str, dict[str, dict[str, Any]]]:
    """Where each write-only value comes from, never the value itself."""
    return {
        attr: {name: {"env": v.env} if v.env is not None else {"literal": True} for name, v in values.items()}
        for attr, values in resource.write_only.items()
    }


def _write_only_from_json(data: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, WriteOnly]]:
    """Environment references read again now (None where unset); literals stay unknown."""
    return {
        attr: {
            name: WriteOnly(os.environ.get(ref["env"]), env=ref["env"]) if "env" in ref else WriteOnly()
            for name, ref in values.items()
        }
        for attr, values in data.items()
    }


def _desired_to_json(desired: DesiredState) -> dict[str, Any]:
    return {
        "manage": {
            "pod_client_id_prefixes": list(desired.manage.pod_client_id_prefixes),
            "ignore": list(desired.manage.ignore),
            "protect": list(desired.manage.protect),
        },
        "moved": [[m.source_address, m.target_address] for m in desired.moved],
        "settings": desired.settings,
        "list_scopes": sorted(desired.list_scopes, key=lambda s: s or ""),
        "resources": [
            {
                "kind": r.kind,
                "address": r.address,
                "attrs": r.attrs,
                "parent": r.parent,
                "prevent_destroy": r.prevent_destroy,
                "ignore_changes": sorted(r.ignore_changes),
                "source": [r.source.file, r.source.line, r.source.column] if r.source else None,
                **({"write_only": _write_only_to_json(r)} if r.write_only else {}),
            }
            for r in desired.resources.values()
        ],
    }


def _desired_from_json(data: dict[str, Any]) -> DesiredState:
    """The recorded desired state, every part checked: a hand-edited or corrupt file is refused
    here (ValueError/TypeError naming what is wrong), never half-used by an apply."""
    manage = _mapping(data["manage"], "manage")
    desired = DesiredState(
        manage=ManagePolicy(
            _strings(manage["pod_client_id_prefixes"], "manage.pod_client_id_prefixes"),
            ignore=_strings(manage.get("ignore", []), "manage.ignore"),
            protect=_strings(manage.get("protect", []), "manage.protect"),
        ),
        moved=[_moved(pair) for pair in _list(data.get("moved", []), "moved")],
        settings=_settings(data.get("settings", {})),
        list_scopes={
            None if scope is None else _string(scope, "list_scopes")
            for scope in _list(data.get("list_scopes", []), "list_scopes")
        },
    )
    for row in _list(data["resources"], "resources"):
        resource = _resource_from_json(_mapping(row, "resources[]"))
        if resource.address in desired.resources:
            raise ValueError(f"resource {resource.address!r} is recorded twice")
        desired.add(resource)
    for resource in desired.resources.values():
        if resource.parent is not None and resource.parent not in desired.resources:
            raise ValueError(f"resource {resource.address!r}: its scope {resource.parent!r} is not recorded")
    return desired


def _resource_from_json(row: dict[str, Any]) -> Resource:
    address = _string(row["address"], "resources[].address")
    segments = split_address(address)
    if not all(name and kind in KINDS for kind, name in segments) or join_address(segments) != address:
        raise ValueError(f"{address!r} is not a resource address")
    if row["kind"] != segments[-1][0]:
        raise ValueError(f"resource {address!r} is recorded as kind {row['kind']!r}")
    if row["parent"] != parent_of(address):
        raise ValueError(f"resource {address!r} is recorded in scope {row['parent']!r}")
    source = row.get("source")
    if source is not None:
        file, line, column = _list(source, "source")
        source = Source(_string(file, "source"), _integer(line, "source"), _integer(column, "source"))
    prevent_destroy = row.get("prevent_destroy", False)
    if not isinstance(prevent_destroy, bool):
        raise TypeError(f"resource {address!r}: prevent_destroy is not true or false")
    return Resource(
        row["kind"],
        address,
        _mapping(row["attrs"], f"{address}: attrs"),
        parent=row["parent"],
        source=source,
        prevent_destroy=prevent_destroy,
        ignore_changes=frozenset(_strings(row.get("ignore_changes", []), f"{address}: ignore_changes")),
        write_only=_write_only_from_json(_mapping(row.get("write_only", {}), f"{address}: write_only")),
    )


def _settings(value: Any) -> dict[str, Any]:
    """Recorded settings checked by the config's own schema (the rails read them unchecked)."""
    settings = _mapping(value, "settings")
    checked = schema.validate(Document("", {"version": schema.SUPPORTED_VERSION, "settings": settings}), limit=1)
    if not checked.valid:
        first = checked.problems[0] if checked.problems else None
        raise ValueError(f"{first.path}: {first.message}" if first else "settings are not valid")
    return settings


def _moved(pair: Any) -> Moved:
    source, target = _strings(pair, "moved", length=2)
    return Moved(source, target)


def _mapping(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise TypeError(f"{what} is not a mapping")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{what} is not a list")
    return value


def _string(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what}: {value!r} is not a string")
    return value


def _integer(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{what}: {value!r} is not a whole number")
    return value


def _strings(value: Any, what: str, length: int | None = None) -> tuple[str, ...]:
    items = tuple(_string(item, what) for item in _list(value, what))
    if length is not None and len(items) != length:
        raise ValueError(f"{what}: {len(items)} items where {length} belong")
    return items
