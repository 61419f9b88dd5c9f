"""Adoption of existing accounts: actual state -> config that plans with zero changes.

Identity in mailctl is by name (pod client_id, inbox address, domain name, key name), so
declaring an existing resource *is* adopting it. Export writes those declarations: pods keyed by
their client_id (or, for pods created without one, by their pod_id, which the reader uses as
their address), resources without a mailctl client_id by their API id, each with the attributes
its kind's description does not call defaults.

What is selected is widened until the config is self-contained and plans with no changes:

- a declared pod owns its children (undeclared ones are deleted), so any part of a pod brings
  the whole pod (``import``);
- a scope with a ``lists`` key owns its list entries, so one entry brings the scope's others;
- a webhook that filters on pods or inboxes needs them declared, so it brings their pods;
- an inbox on an organisation-level domain needs that domain declared (``export --pod``).

With ``-f``, what that config's ``manage.ignore`` matches is left out (``without_ignored``), and
the rules come along in the printed ``manage`` section (``carried_rules``): without them, the
printed config alone would delete or adopt what the rules leave alone. ``export`` prints its
``settings`` too (``carried_settings``), so the printed config keeps the -f config's rails.

Keys that cannot be declared are left out, and said so: the older of two keys sharing a name in
the middle of a rotation (``superseded``; unmanaged until ``rotate --retire-old``), the old half
of an unfinished replacement beside its new key (``replaced``; the plan deletes it), and keys a
killed apply left under their pending name (``unrecorded``): nobody has their secret, so declaring
one would only plan its replacement (and in a declared pod, leaving it out plans its deletion).
The old half of a replacement whose create failed, alone under its name, is the declared key: it
is declared, and the plan renames it back in place (same key, same secret).
This module is pure; ``mailctl.cli.export_cmd`` reads the account and checks the result by
planning it.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from mailctl.config.dump import dump_yaml
from mailctl.kinds import canonical_pattern, names_index, referenced, spec_of
from mailctl.kinds.base import replaced_name
from mailctl.plan.targeting import matches
from mailctl.resources import (
    LIST_ENTRY,
    ActualState,
    ManagePolicy,
    Resource,
    parent_of,
    pod_address,
    split_address,
)

ORGANIZATION_FILE = "_organization"


@dataclass
class Selection:
    """The resources to declare, and what the header should say about how they were chosen."""

    state: ActualState = field(default_factory=ActualState)
    notes: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)  # the pod globs that matched no pod


def without_ignored(actual: ActualState, manage: ManagePolicy) -> tuple[ActualState, list[str]]:
    """``actual`` less what ``manage.ignore`` matches (made at runtime: never declared), and the
    addresses left out. ``actual`` itself is kept whole: the check plans against everything."""
    ignored = sorted(a for a in actual.resources if manage.ignore and manage.ignores(a))
    rest = ActualState(left_alone=actual.left_alone)
    for address, resource in actual.resources.items():
        if address not in ignored:
            rest.add(resource)
    return rest, ignored


def carried_rules(manage: ManagePolicy, every_pod: bool) -> tuple[dict[str, Any], list[str]]:
    """The ``manage`` section printed for a ``-f`` config's rules, and what the header says about it.

    ``ignore`` must come along: the printed config leaves its matches out, so without the rule a
    plan of it alone deletes them (in a declared pod). ``protect`` never adds a change, and keeps
    its guard. ``pods.client_id_prefix`` deletes the undeclared pods it matches, so it comes
    along only when every pod is printed (``export`` without ``--pod``)."""
    section: dict[str, Any] = {}
    notes: list[str] = []
    prefixes = list(manage.pod_client_id_prefixes)
    if prefixes and every_pod:
        section["pods"] = {"client_id_prefix": prefixes[0] if len(prefixes) == 1 else prefixes}
    elif prefixes:
        notes.append(
            "manage.pods of the -f config is not copied: it would delete the undeclared pods it matches "
            "(those not printed here)"
        )
    if manage.ignore:
        section["ignore"] = list(manage.ignore)
    if manage.protect:
        section["protect"] = list(manage.protect)
    if section:
        copied = ", ".join(f"manage.{name}" for name in section)
        notes.insert(0, f"{copied} copied from the -f config (drop the copy if you add this to that config)")
    return section, notes


def select_pods(actual: ActualState, pod_globs: list[str] | None = None) -> Selection:
    """Everything (no globs), or the pods matching ``pod_globs`` and the organisation domains
    their inboxes use."""
    out = Selection()
    matched: set[str] = set()
    for resource in actual.resources.values():
        pod = resource.pod
        hits = {g for g in pod_globs or () if pod is not None and fnmatchcase(pod, g)}
        matched |= hits
        if not pod_globs or hits:
            out.state.add(resource)
    out.unmatched = [g for g in pod_globs or () if g not in matched]
    _complete(out, actual)
    return out


def select_for_import(actual: ActualState, patterns: list[str]) -> Selection:
    """The resources at ``patterns`` (globs, read as ``--target`` reads them: an inbox's address,
    a domain, a list entry in any case), widened so the result plans with no changes."""
    out = Selection()
    globs = [canonical_pattern(p) for p in patterns]
    chosen = {a for a in actual.resources if any(matches(a, g) for g in globs)}
    whole_pods = {pod for a in chosen if (pod := actual.resources[a].pod) is not None}
    named_pods = {pod for a in _named_by(actual, chosen) if (pod := actual.resources[a].pod) is not None}
    org_lists = any(_org_list_entry(actual.resources[a]) for a in chosen)
    pods = whole_pods | named_pods
    for address, resource in actual.resources.items():
        if address in chosen or resource.pod in pods or (org_lists and _org_list_entry(resource)):
            out.state.add(resource)
    widened = [r for a, r in out.state.resources.items() if a not in chosen]
    out.notes += _widening_notes(widened, named_pods - whole_pods)
    _complete(out, actual)
    return out


def _named_by(actual: ActualState, chosen: set[str]) -> set[str]:
    """The existing resources the attributes of ``chosen`` ones name (a webhook's pods and
    inboxes): config refuses a name that is not declared."""
    index = names_index(actual.resources.values())
    named = {a for address in chosen for a in referenced(actual.resources[address], index)}
    return named & set(actual.resources)


def _org_list_entry(resource: Resource) -> bool:
    """An organisation-scope resource of a kind whose section makes its scope managed (lists)."""
    return resource.pod is None and spec_of(resource.kind).manages_scope


def _widening_notes(widened: list[Resource], named_pods: set[str]) -> list[str]:
    """Why ``widened`` was added; ``named_pods``: pods added only because a selected resource
    names them (or an inbox in them)."""
    notes = [
        f"{pod_address(pod)} is imported whole: "
        + (
            "a selected webhook filters on it (or an inbox in it), and it must be declared; mailctl "
            "deletes the undeclared children of a declared pod"
            if pod in named_pods
            else "mailctl deletes the undeclared children of a declared pod, so declaring part of it "
            "would delete the rest"
        )
        for pod in sorted({r.pod for r in widened if r.pod is not None})
    ]
    if any(_org_list_entry(r) for r in widened):
        notes.append(
            "every organisation list entry is imported: a `lists` key makes mailctl manage all the entries of its scope"
        )
    return notes


def _complete(selection: Selection, actual: ActualState) -> None:
    """Add the organisation domains the selected inboxes use; drop keys that cannot be declared."""
    # the organisation-wide resource each selected one is created on (an inbox's domain)
    used = set()
    for resource in selection.state.resources.values():
        org_level = [a for a in spec_of(resource.kind).uses(resource) if parent_of(a) is None]
        used |= {next((a for a in org_level if a in actual.resources), org_level[0])} if org_level else set()
    for address in sorted(used - set(selection.state.resources)):
        if address in actual.resources:
            selection.state.add(actual.resources[address])
            selection.notes.append(
                f"{address} is included: the selected inboxes use it (drop it if your config declares it already)"
            )
    _drop_undeclarable(selection, actual)


def _drop_undeclarable(selection: Selection, actual: ActualState) -> None:
    """Keys whose name another key holds (``name#api_key_id``): mid-rotation, the older one; the
    old half of an unfinished replacement beside its new key; and keys still under their pending
    name, whose secret was never recorded. The old half of a replacement whose create failed
    holds its name: it is the declared key, kept and said so."""
    for address, resource in list(selection.state.resources.items()):
        observed = resource.observed
        if observed.replaced and "#" not in resource.name:
            selection.notes.append(
                f"{address} is declared: it is the old half of a replacement that did not finish (named "
                f"`{replaced_name(resource.name)}`) and no key holds its name; the next apply renames it "
                "back (the same key, no new secret)"
            )
            continue
        if not (observed.superseded or observed.unrecorded or observed.replaced or "#" in resource.name):
            continue
        del selection.state.resources[address]
        if resource.observed.unrecorded:
            why = _unrecorded_note(resource)
        elif resource.observed.superseded:
            why = _superseded_note(resource, actual)
        elif resource.observed.replaced:
            why = (
                "it is the old half of a replacement that did not finish (the new key holds its name); "
                "the next apply deletes it"
            )
        else:
            why = "shares its name with another key"
        selection.notes.append(f"{address} is left out: {why}")


def _superseded_note(key: Resource, actual: ActualState) -> str:
    """Why a key another key's name displaced (``NAME#api_key_id``) is left out: mid-rotation,
    unless one of the two is addressed by its api_key_id (its name cannot be declared) and that id
    is the other's name. Either way plans list it as unmanaged."""
    name = key.name.partition("#")[0]
    plain = key.address[: -len(key.name)] + name  # the address the other key holds
    holder = actual.resources.get(plain)
    retire = f"`mailctl rotate --retire-old` of {plain} would delete it as an older key"
    if key.remote_id == name:
        return (
            f"it is addressed by its api_key_id (its name cannot be declared), and a key named `{name}` holds "
            f"that address; mailctl leaves it alone (unmanaged) until one of them is renamed ({retire})"
        )
    if holder is not None and holder.remote_id == name:
        return (
            f"another key, addressed by its api_key_id `{name}` (its name cannot be declared), holds this key's "
            f"name; mailctl leaves it alone (unmanaged) until one of them is renamed ({retire})"
        )
    return "superseded by a newer key of the same name (mid-rotation; `mailctl rotate --retire-old` removes it)"


def _unrecorded_note(key: Resource) -> str:
    """What becomes of a leftover pending key once the export is applied."""
    why = "its secret was never recorded (a killed apply left it under its pending name), so it cannot be adopted"
    if "#" in key.name:  # a real key holds its name, and is exported: the plan deletes this one
        return why + "; the next apply deletes it"
    if key.pod is not None:  # the declared pod's undeclared children are deleted
        return why + "; the next apply deletes it, or replaces it with a new key if you declare it"
    return why + "; mailctl leaves it alone while it is undeclared, and replaces it with a new key if you declare it"


def carried_settings(settings: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The ``settings`` printed for a ``-f`` config's, and what the header says about them. The
    safety thresholds must come along: an apply of the printed config alone would otherwise run
    with the defaults, and let through the changes the -f config's rails refuse."""
    if not settings:
        return {}, []
    return settings, ["settings copied from the -f config (drop the copy if you add this to that config)"]


def export_tree(
    state: ActualState, manage: dict[str, Any] | None = None, settings: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One config tree declaring every resource of ``state``, under ``manage`` rules and
    ``settings`` if any."""
    tree: dict[str, Any] = {"version": 1} | ({"manage": manage} if manage else {})
    tree |= {"settings": settings} if settings else {}
    for resource in sorted(state.resources.values(), key=lambda r: r.address):
        segments = split_address(resource.address)
        scope = tree
        for kind, name in segments[:-1]:
            scope = scope.setdefault(_section(kind), {}).setdefault(name, {})
        kind, name = segments[-1]
        if kind == LIST_ENTRY:
            direction, list_type, entry = name.split("/", 2)
            lists = scope.setdefault("lists", {}).setdefault(direction, {}).setdefault(list_type, {})
            lists[entry] = _declaration(resource) or None
        else:
            scope.setdefault(_section(kind), {}).setdefault(name, {}).update(_declaration(resource))
    return tree


def split_by_pod(tree: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """``{file stem: tree}``: ``_organization`` for organisation resources, one per pod (see
    ``_file_stems`` for the names)."""
    files: dict[str, dict[str, Any]] = {}
    org = {k: v for k, v in tree.items() if k != "pods"}
    if len(org) > 1:
        files[ORGANIZATION_FILE] = org
    pods = tree.get("pods") or {}
    for stem, pod in _file_stems(list(pods)).items():
        files[stem] = {"version": 1, "pods": {pod: pods[pod]}}
    return files


_PLAIN_STEM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._~-]*")
_MAX_STEM = 100  # far below the 255 bytes a file name may have, with room for a suffix


def _file_stems(pods: list[str]) -> dict[str, str]:
    """``{file stem: pod}``: the pod's client_id where that is a plain file name, else a name
    made from it plus a hash of it. Any client_id is one (``_organization``, ``..``, 256
    characters): the stem never starts with a dot or a dash, never clashes with the organisation
    file or, ignoring case (macOS, Windows), with another pod's."""
    stems: dict[str, str] = {}
    taken = {ORGANIZATION_FILE.casefold()}
    for pod in sorted(pods):
        stem = pod
        if not _PLAIN_STEM.fullmatch(pod) or len(pod) > _MAX_STEM or pod.casefold() in taken:
            readable = re.sub(r"^[^A-Za-z0-9]+", "", pod)[: _MAX_STEM - 9] or "pod"
            digest = hashlib.sha256(pod.encode()).hexdigest()
            stem, more = f"{readable}-{digest[:8]}", 0
            while stem.casefold() in taken:  # another pod is named like this made-up name
                more += 1
                stem = f"{readable}-{digest[:8]}-{more}"
        taken.add(stem.casefold())
        stems[stem] = pod
    return stems


def to_yaml(tree: dict[str, Any], header: list[str]) -> str:
    """The tree as YAML under a comment header (one ``# `` line per entry)."""
    return "".join(f"# {line}\n" for line in header) + dump_yaml(tree)


def _section(kind: str) -> str:
    return spec_of(kind).section


def _declaration(resource: Resource) -> dict[str, Any]:
    return spec_of(resource.kind).declaration(resource)
