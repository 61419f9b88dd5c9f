"""Read the actual state from the API, translated into the resource model's vocabulary.

Requests are kept to what the API allows: organisation-wide list endpoints (pods, inboxes,
domains, API keys, webhooks) fetched concurrently, a page at a time. Only two things fan out:
domain details (list rows carry no verification status, so declared custom domains are fetched
one by one) and allow/block lists, which have no organisation-wide view, read only for the
scopes whose config declares ``lists``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, Callable

from mailctl.api.client import AgentMailClient, quote_segment
from mailctl.api.lock import is_lock_pod
from mailctl.api.paths import item_path, scope_path
from mailctl.errors import NotFound
from mailctl.resources import (
    API_KEY,
    DOMAIN,
    INBOX,
    LIST_DIRECTIONS,
    LIST_ENTRY,
    LIST_TYPES,
    POD,
    WEBHOOK,
    ActualState,
    DesiredState,
    Resource,
    api_key_address,
    domain_address,
    inbox_address,
    list_entry_address,
    normalize_event_types,
    normalize_permissions,
    normalize_timestamp,
    pod_address,
    split_address,
    webhook_address,
    webhook_name_from_client_id,
)
from mailctl.secrets import declared_name_of

FAN_OUT = 16


class StateReader:
    def __init__(self, client: AgentMailClient, parallelism: int = FAN_OUT):
        self.client = client
        self.parallelism = max(1, parallelism)

    def read(self, desired: DesiredState) -> ActualState:
        lists = {
            "pods": ("/v0/pods", "pods"),
            "inboxes": ("/v0/inboxes", "inboxes"),
            "domains": ("/v0/domains", "domains"),
            "api_keys": ("/v0/api-keys", "api_keys"),
            "webhooks": ("/v0/webhooks", "webhooks"),
        }
        rows = self._parallel({name: partial(self.client.list_all, path, key)
                               for name, (path, key) in lists.items()})
        rows["pods"] = [row for row in rows["pods"] if not is_lock_pod(row.get("client_id"))]
        pods = {row["pod_id"]: _pod_name(row) for row in rows["pods"]}
        state = ActualState()
        for row in rows["pods"]:
            state.add(_pod(row, pods))
        for row in rows["inboxes"]:
            if row.get("pod_id") in pods:
                state.add(_inbox(row, pods))
        for row in rows["domains"]:
            state.add(_domain(row, pods))
        owners = _Owners(pods, {row["inbox_id"].lower(): row.get("pod_id") for row in rows["inboxes"]})
        for resource in _api_keys(rows["api_keys"], owners):
            state.add(resource)
        for row in rows["webhooks"]:
            if owners.of(row) is not None:
                state.add(_webhook(row, owners))
        scopes = {r.parent for r in desired.resources.values() if r.kind == LIST_ENTRY}
        self.read_lists(state, scopes | desired.list_scopes)
        return state

    def count_inbox_data(self, inbox_ids: list[str]) -> dict[str, dict[str, int]]:
        """Threads, messages and drafts each inbox holds: what deleting it destroys."""
        def count(inbox_id: str) -> dict[str, int]:
            base = f"/v0/inboxes/{quote_segment(inbox_id)}"
            return {what: sum(1 for _ in self.client.paginate(f"{base}/{what}", what))
                    for what in ("threads", "messages", "drafts")}
        return self._parallel({i: partial(count, i) for i in inbox_ids})

    # -----------------------------------------------------------------------------------------

    def domain_statuses(self, domains: list[Resource], state: ActualState) -> dict[str, str | None]:
        """Verification status of existing domains (list rows do not carry it): one GET each."""
        ids = _ids(state)

        def fetch(resource: Resource) -> str | None:
            try:
                return self.client.get(item_path(resource, ids)).get("status")
            except NotFound:
                return None
        return self._parallel({r.address: partial(fetch, r) for r in domains})

    def read_lists(self, state: ActualState, scopes: set[str | None]) -> None:
        """Add the allow/block entries of ``scopes`` (None: organisation) to ``state``."""
        jobs: dict[tuple[str | None, str, str], Callable[[], Any]] = {}
        ids = _ids(state)
        for scope in scopes:
            if scope is not None and scope not in state.resources:
                continue  # the pod or inbox does not exist yet: nothing to read
            base = scope_path(scope, ids)
            for direction in LIST_DIRECTIONS:
                for list_type in LIST_TYPES:
                    path = f"{base}/lists/{direction}/{list_type}"
                    jobs[(scope, direction, list_type)] = partial(self._list_or_empty, path)
        for (scope, direction, list_type), entries in self._parallel(jobs).items():
            segments = split_address(scope) if scope else []
            pod = segments[0][1] if segments else None
            inbox = segments[1][1] if len(segments) > 1 else None
            for row in entries:
                address = list_entry_address(direction, list_type, row["entry"], pod=pod, inbox=inbox)
                attrs = {"reason": row["reason"]} if row.get("reason") is not None else {}
                state.add(Resource(LIST_ENTRY, address, attrs, parent=scope,
                                   observed={"read_only": bool(row.get("read_only"))}))

    def _list_or_empty(self, path: str) -> list[dict[str, Any]]:
        try:
            return self.client.list_all(path, "entries")
        except NotFound:
            return []

    def _parallel(self, jobs: dict[Any, Callable[[], Any]]) -> dict[Any, Any]:
        if len(jobs) <= 1:
            return {key: job() for key, job in jobs.items()}
        with ThreadPoolExecutor(max_workers=min(self.parallelism, len(jobs))) as pool:
            futures = {key: pool.submit(job) for key, job in jobs.items()}
            return {key: future.result() for key, future in futures.items()}


# ---------------------------------------------------------------------------------------------
# API rows -> resources


def _pod_name(row: dict[str, Any]) -> str:
    """The pod segment of addresses: its client_id, or its pod_id when it has none."""
    return row.get("client_id") or row["pod_id"]


def _pod(row: dict[str, Any], pods: dict[str, str]) -> Resource:
    return Resource(POD, pod_address(pods[row["pod_id"]]), {"name": row.get("name")},
                    remote_id=row["pod_id"],
                    observed={"client_id": row.get("client_id"), "pod_id": row["pod_id"]})


def _inbox(row: dict[str, Any], pods: dict[str, str]) -> Resource:
    attrs: dict[str, Any] = {"metadata": row.get("metadata") or {},
                             "status": row.get("status") or "active"}
    if row.get("display_name") is not None:
        attrs["display_name"] = row["display_name"]
    pod = pods[row["pod_id"]]
    return Resource(INBOX, inbox_address(pod, row["inbox_id"]), attrs, parent=pod_address(pod),
                    remote_id=row["inbox_id"], observed={"client_id": row.get("client_id")})


def _domain(row: dict[str, Any], pods: dict[str, str]) -> Resource:
    attrs = {k: row[k] for k in ("feedback_enabled", "inbound_enabled", "subdomains_enabled",
                                 "tracking_enabled") if row.get(k) is not None}
    pod = pods.get(row.get("pod_id") or "")
    return Resource(DOMAIN, domain_address(row["domain"], pod=pod), attrs,
                    parent=pod_address(pod) if pod else None, remote_id=row["domain_id"],
                    observed={"client_id": row.get("client_id")})


class _Owners:
    """Which scope a key or webhook row belongs to, in address terms.

    The API sets ``pod_id`` on inbox-scoped keys, but not on every inbox webhook: the pod of an
    inbox is taken from the inbox itself. Rows of pods mailctl cannot see (the lock pod) are None.
    """

    def __init__(self, pods: dict[str, str], inbox_pods: dict[str, str | None]):
        self.pods = pods
        self.inbox_pods = inbox_pods

    def of(self, row: dict[str, Any]) -> tuple[str | None, str | None] | None:
        inbox = (row.get("inbox_id") or "").lower() or None
        pod_id = row.get("pod_id") or (self.inbox_pods.get(inbox) if inbox else None)
        if inbox is not None and pod_id is None:
            return None  # an inbox we did not list
        if pod_id is None:
            return None, None
        pod = self.pods.get(pod_id)
        return None if pod is None else (pod, inbox)

    @staticmethod
    def parent(pod: str | None, inbox: str | None) -> str | None:
        if pod is not None and inbox is not None:
            return inbox_address(pod, inbox)
        return pod_address(pod) if pod is not None else None


def _api_keys(rows: list[dict[str, Any]], owners: _Owners) -> list[Resource]:
    """Bearer keys by (scope, name). Several keys of one name exist mid-rotation: the newest
    keeps the name, the older ones are marked superseded (``name#api_key_id``) and left alone
    until ``mailctl rotate --retire-old``.

    A key still under its pending name (``mailctl.secrets.pending_name``) may have lost its secret:
    it is marked ``unrecorded``. It takes its declared address only when no key holds that name
    (so the plan replaces it), else it is ``name#api_key_id`` (so the plan deletes it)."""
    out: list[Resource] = []
    seen: set[str] = set()
    newest_first = sorted(rows, key=lambda r: (r.get("created_at") or "", r["api_key_id"]), reverse=True)
    # Keys under their declared names first: a pending key never takes the address of a real one.
    for row in sorted(newest_first, key=lambda r: declared_name_of(r.get("name") or "") is not None):
        if row.get("type", "bearer") != "bearer":
            continue  # public-key (sign-in) credentials are not managed by mailctl
        owner = owners.of(row)
        if owner is None:
            continue
        pod, inbox = owner
        raw_name = row.get("name") or row["api_key_id"]
        name = declared_name_of(raw_name) or raw_name
        unrecorded = name != raw_name
        address = declared = api_key_address(name, pod=pod, inbox=inbox)
        taken = address in seen
        if taken:
            address = api_key_address(f"{name}#{row['api_key_id']}", pod=pod, inbox=inbox)
        seen.add(address)
        attrs: dict[str, Any] = {"permissions": normalize_permissions(row.get("permissions"))}
        if row.get("expires_at"):
            attrs["expires_at"] = normalize_timestamp(row["expires_at"])
        parent = owners.parent(pod, inbox)
        out.append(Resource(API_KEY, address, attrs, parent=parent, remote_id=row["api_key_id"],
                            observed={"prefix": row.get("prefix"), "used_at": row.get("used_at"),
                                      "superseded": taken and not unrecorded, "created_at": row.get("created_at"),
                                      "unrecorded": unrecorded, "declared_address": declared}))
    return out


def _webhook(row: dict[str, Any], owners: _Owners) -> Resource:
    owner = owners.of(row)
    assert owner is not None
    pod, inbox = owner
    parent = owners.parent(pod, inbox)
    name = webhook_name_from_client_id(row.get("client_id"), parent) or row["webhook_id"]
    address = webhook_address(name, pod=pod, inbox=inbox)
    attrs: dict[str, Any] = {"url": row["url"], "enabled": row.get("enabled", True),
                             "event_types": normalize_event_types(row.get("event_types") or [])}
    if pod is None and inbox is None:
        attrs["pods"] = sorted(owners.pods.get(p, p) for p in row.get("pod_ids") or [])
    if inbox is None:
        attrs["inboxes"] = sorted(i.lower() for i in row.get("inbox_ids") or [])
    return Resource(WEBHOOK, address, attrs, parent=parent, remote_id=row["webhook_id"],
                    observed={"client_id": row.get("client_id")})


def _ids(state: ActualState) -> dict[str, str]:
    return {a: r.remote_id for a, r in state.resources.items() if r.remote_id is not None}
