"""Saved plans (``plan --out``) and the fingerprint of the state they were made from.

A plan file records the desired state it was planned from, the --target/--exclude filters, the
plan itself (for people and tools to read) and a fingerprint of the actual state. ``apply
PLANFILE`` re-reads the actual state and refuses when it differs from the one recorded, naming
what changed; otherwise it re-plans from the recorded desired state, which must give the same
changes. Secrets are never part of either state, so they never reach a plan file.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from mailctl.errors import UnsafePlan, UsageError
from mailctl.plan.changes import Plan
from mailctl.plan.render import plan_to_json
from mailctl.resources import ActualState, DesiredState, ManagePolicy, Resource, Source

PLANFILE_FORMAT = "mailctl-plan/1"


def state_digests(actual: ActualState) -> dict[str, str]:
    """address -> digest of what the API reported for it (attributes and remote id)."""
    return {
        address: hashlib.sha256(json.dumps([r.remote_id, r.attrs], sort_keys=True, default=str)
                                .encode()).hexdigest()[:16]
        for address, r in sorted(actual.resources.items())
    }


def fingerprint(digests: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()


def save(path: str, plan: Plan, desired: DesiredState, actual: ActualState, targets: list[str],
         excludes: list[str]) -> None:
    digests = state_digests(actual)
    document = {
        "format": PLANFILE_FORMAT,
        "state_fingerprint": fingerprint(digests),
        "state_digests": digests,
        "targets": targets,
        "excludes": excludes,
        "desired": _desired_to_json(desired),
        "plan": plan_to_json(plan),
    }
    try:
        Path(path).write_text(json.dumps(document, indent=2, sort_keys=True) + "\n")
    except OSError as exc:
        raise UsageError(f"cannot write plan file {path}: {exc.strerror}") from None


class SavedPlan:
    def __init__(self, path: str):
        try:
            document = json.loads(Path(path).read_text())
        except OSError as exc:
            raise UsageError(f"cannot read plan file {path}: {exc.strerror}") from None
        except ValueError:
            raise UsageError(f"{path} is not a mailctl plan file (not JSON)") from None
        if not isinstance(document, dict) or document.get("format") != PLANFILE_FORMAT:
            raise UsageError(f"{path} is not a mailctl plan file (expected format {PLANFILE_FORMAT})")
        self.path = path
        self.digests: dict[str, str] = document["state_digests"]
        self.targets: list[str] = document.get("targets", [])
        self.excludes: list[str] = document.get("excludes", [])
        self.desired = _desired_from_json(document["desired"])
        self.recorded_plan: dict[str, Any] = document["plan"]

    def check_fresh(self, actual: ActualState) -> None:
        """Refuse when the actual state moved since the plan was made, naming what moved."""
        now = state_digests(actual)
        if fingerprint(now) == fingerprint(self.digests):
            return
        added = sorted(set(now) - set(self.digests))
        removed = sorted(set(self.digests) - set(now))
        changed = sorted(a for a in set(now) & set(self.digests) if now[a] != self.digests[a])
        lines = [f"  + {a} (appeared)" for a in added] + [f"  - {a} (disappeared)" for a in removed]
        lines += [f"  ~ {a} (changed)" for a in changed]
        raise UnsafePlan(f"saved plan {self.path} is stale: the actual state changed since it was "
                         f"made:\n" + "\n".join(lines[:50]) + "\nRun `mailctl plan` again.")


def _desired_to_json(desired: DesiredState) -> dict[str, Any]:
    return {
        "manage": {"pod_client_id_prefixes": list(desired.manage.pod_client_id_prefixes)},
        "settings": desired.settings,
        "list_scopes": sorted(desired.list_scopes, key=lambda s: s or ""),
        "resources": [
            {"kind": r.kind, "address": r.address, "attrs": r.attrs, "parent": r.parent,
             "prevent_destroy": r.prevent_destroy,
             "source": [r.source.file, r.source.line, r.source.column] if r.source else None}
            for r in desired.resources.values()
        ],
    }


def _desired_from_json(data: dict[str, Any]) -> DesiredState:
    desired = DesiredState(manage=ManagePolicy(tuple(data["manage"]["pod_client_id_prefixes"])),
                           settings=data.get("settings") or {},
                           list_scopes=set(data.get("list_scopes") or []))
    for row in data["resources"]:
        source = Source(*row["source"]) if row.get("source") else None
        desired.add(Resource(row["kind"], row["address"], row["attrs"], parent=row["parent"],
                             source=source, prevent_destroy=row.get("prevent_destroy", False)))
    return desired
