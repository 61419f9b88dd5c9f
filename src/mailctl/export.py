"""Adoption of existing accounts: actual state -> config that plans with zero changes.

Identity in mailctl is by name (pod client_id, inbox address, domain name, key name), so
declaring an existing resource *is* adopting it. Export writes those declarations: pods keyed by
their client_id (or, for pods created without one, by their pod_id, which the reader uses as
their address), webhooks without a mailctl client_id keyed by their webhook_id.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

from mailctl.config.dump import dump_yaml
from mailctl.resources import (
    API_KEY,
    DOMAIN,
    INBOX,
    LIST_ENTRY,
    POD,
    WEBHOOK,
    ActualState,
    Resource,
    split_address,
)

HEADER = ("# Exported by `mailctl export`: `mailctl plan` against this account shows no changes.\n"
          "# Review it, then commit it as the desired state.\n")


def export_tree(actual: ActualState, pod_globs: list[str] | None = None) -> dict[str, Any]:
    """One config tree: organisation-level resources plus the pods matching ``pod_globs``."""
    tree: dict[str, Any] = {"version": 1}
    for resource in sorted(actual.resources.values(), key=lambda r: r.address):
        segments = split_address(resource.address)
        pod = segments[0][1] if segments[0][0] == POD else None
        if pod is not None and pod_globs and not any(fnmatchcase(pod, g) for g in pod_globs):
            continue
        if pod is None and pod_globs and resource.kind != POD:
            continue  # with --pod, only the selected pods are exported
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
    """``{file stem: tree}``: ``_organization`` for organisation resources, one per pod."""
    files: dict[str, dict[str, Any]] = {}
    org = {k: v for k, v in tree.items() if k != "pods"}
    if len(org) > 1:
        files["_organization"] = org
    for pod, body in (tree.get("pods") or {}).items():
        files[pod] = {"version": 1, "pods": {pod: body}}
    return files


def to_yaml(tree: dict[str, Any]) -> str:
    return HEADER + dump_yaml(tree)


def _section(kind: str) -> str:
    return {POD: "pods", DOMAIN: "domains", INBOX: "inboxes", API_KEY: "api_keys",
            WEBHOOK: "webhooks", LIST_ENTRY: "lists"}[kind]


def _declaration(resource: Resource) -> dict[str, Any]:
    attrs = dict(resource.attrs)
    if resource.kind == INBOX:
        if attrs.get("status") == "active":
            del attrs["status"]  # the default
        if not attrs.get("metadata"):
            attrs.pop("metadata", None)
    if resource.kind == API_KEY and attrs.get("permissions") is None:
        attrs.pop("permissions", None)  # unrestricted is the default
    if resource.kind == WEBHOOK:
        for optional in ("pods", "inboxes"):
            if not attrs.get(optional):
                attrs.pop(optional, None)
    return attrs
