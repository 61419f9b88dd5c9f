"""Read some pods only: what a plan narrowed by ``--target`` / ``--shard`` needs (issue 19 point 1).

``mailctl.plan.reads`` decides which pods a narrowed plan takes and whether it needs the
organisation level; this module reads them. The pods are listed whole (globs are matched against
them; a page holds 100). Then, per taken pod, each kind's list on the pod's route
(``/v0/pods/{id}/inboxes``, ``/api-keys``, ``/webhooks``, ``/domains``), and per inbox found, each
kind's list on the inbox's route (its keys and webhooks). Every declared inbox of a taken pod that
is not in it is looked up by its address (``GET /v0/inboxes/{address}``: its id), so an inbox
declared here that exists in another pod is seen and moved, as in a full plan; that inbox's own
children are read too (its delete takes them). When the taken pods declare a domain or an inbox
on a custom domain, the domains are read organisation-wide (a domain name is unique there, and
an inbox may be created on an organisation domain) instead of per pod.

The rows are the ones the organisation-wide lists return, so each kind's ``read_rows`` turns them
into resources unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from mailctl.api.client import AgentMailClient, quote_segment
from mailctl.api.listing import PAGE, list_both_ends
from mailctl.api.rows import checked
from mailctl.errors import NotFound
from mailctl.kinds import INNER_SCOPES, SPECS, TOP_SCOPE, KindSpec
from mailctl.resources import Kind

INBOX = INNER_SCOPES[0]  # the scope inside a pod, found by its id (its address): inboxes

Rows = dict[Any, list[dict[str, Any]]]
Parallel = Callable[[dict[Any, Callable[[], Any]]], dict[Any, Any]]


@dataclass(frozen=True)
class PodsRead:
    """What a narrowed plan reads (built by ``mailctl.ops.planning`` from ``mailctl.plan.reads``)."""

    takes_pod: Callable[[str], bool]  # client_id (or pod_id) -> the plan may change it or what it holds
    organisation: bool = False  # the organisation level is selected: read everything instead
    domains: bool = False  # read the domains organisation-wide instead of per pod
    locate: tuple[str, ...] = ()  # inbox ids declared in the taken pods: find them wherever they are
    # (pod names taken, pods listed) -> reading them pod by pod costs fewer requests than the lists
    cheaper: Callable[[list[str], int], bool] = field(default=lambda taken, listed: True)


def listed(scope: Kind) -> list[KindSpec]:
    """The kinds with a list on the route of a ``scope`` (pod or inbox) besides the scope's own kind."""
    return [s for s in SPECS.values() if s.list_key is not None and scope in s.parents]


def read_pods(client: AgentMailClient, parallel: Parallel, pods: list[dict[str, Any]], request: PodsRead) -> Rows:
    """Rows by kind of the taken ``pods`` (their own rows included) and what they need."""
    rows: Rows = {spec.kind: [] for spec in SPECS.values() if spec.list_key is not None}
    rows[TOP_SCOPE] = pods
    inboxes: dict[str, dict[str, Any]] = {}
    for (kind, _), found in parallel(_pod_jobs(client, pods, request)).items():
        for row in found:
            if kind in INNER_SCOPES:
                inboxes.setdefault(row["inbox_id"].lower(), row)
            else:
                rows[kind].append(row)
    missing = [i for i in request.locate if i.lower() not in inboxes]  # not in their pod: elsewhere?
    located = parallel({i: partial(_located, client, f"/v0/inboxes/{quote_segment(i)}") for i in missing})
    for found in located.values():
        if found is not None:
            inboxes.setdefault(found["inbox_id"].lower(), found)
    rows[INBOX] = list(inboxes.values())
    inbox_jobs: dict[Any, Callable[[], Any]] = {
        (spec.kind, inbox["inbox_id"]): partial(
            _list, client, f"/v0/inboxes/{quote_segment(inbox['inbox_id'])}{spec.route}", spec, inbox.get("pod_id")
        )
        for inbox in inboxes.values()
        for spec in listed(INBOX)
    }
    for (kind, inbox_id), found in parallel(inbox_jobs).items():
        rows[kind].extend({"inbox_id": inbox_id, **row} for row in found)
    return {kind: _unique(kind, found) for kind, found in rows.items()}


def _pod_jobs(client: AgentMailClient, pods: list[dict[str, Any]], request: PodsRead) -> dict[Any, Callable[[], Any]]:
    """The lists to read: each taken pod's children, and (when the request says so) the verified
    kinds (domains) organisation-wide, one list instead of one per pod."""
    jobs: dict[Any, Callable[[], Any]] = {}
    for pod in pods:
        if request.takes_pod(pod.get("client_id") or pod["pod_id"]):
            base = f"/v0/pods/{quote_segment(pod['pod_id'])}"
            for spec in listed(TOP_SCOPE):
                if not (spec.verified and request.domains):
                    jobs[(spec.kind, pod["pod_id"])] = partial(_list, client, base + spec.route, spec, pod["pod_id"])
    for spec in SPECS.values() if request.domains else ():
        if spec.verified and spec.list_key is not None:
            route, field = f"/v0{spec.route}", spec.remote_id_field or ""
            jobs[(spec.kind, None)] = partial(
                list_both_ends, client, route, spec.list_key, field, partial(checked, spec)
            )
    return jobs


def _list(client: AgentMailClient, path: str, spec: KindSpec, pod_id: str | None) -> list[dict[str, Any]]:
    """One scope's list; its rows say their pod (a scope's route implies it)."""
    found = (checked(spec, row) for row in client.paginate(path, spec.list_key or "", page_size=PAGE))
    return [{"pod_id": pod_id, **row} if not row.get("pod_id") else row for row in found]


def _located(client: AgentMailClient, path: str) -> dict[str, Any] | None:
    """The inbox at ``path`` (checked as a listed one), or None when there is none."""
    try:
        return checked(SPECS[INBOX], client.get(path))
    except NotFound:
        return None


def _unique(kind: Kind, rows: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each object once (a pod's webhook list may hold its inboxes' webhooks too)."""
    id_field = SPECS[kind].remote_id_field or f"{kind.value}_id"
    seen: dict[Any, dict[str, Any]] = {}
    for row in rows:
        seen.setdefault(row.get(id_field), row)
    return list(seen.values())
