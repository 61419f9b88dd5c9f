"""Read the actual state from the API, translated into the resource model's vocabulary.

Requests are kept to what the API allows: the organisation-wide list endpoint of every kind that
has one (``KindSpec.list_key``) fetched concurrently, a page at a time (a long one from both ends
at once: ``mailctl.api.listing``); each kind's description
turns its rows into resources. Only two things fan out:
domain details (list rows carry no verification status, so declared custom domains are fetched
one by one) and allow/block lists, which have no organisation-wide view, read only for the
scopes whose config declares ``lists``.

A plan narrowed to some pods (``--target``, ``--shard``) lists the pods, then reads only the pods
it takes, pod by pod (``mailctl.api.pod_reads``), when that costs fewer requests than the lists.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any

from mailctl.api.client import AgentMailClient, quote_segment
from mailctl.api.identity import identity, require_organisation_key
from mailctl.api.listing import list_both_ends
from mailctl.api.lock import is_lock_pod, is_reserved
from mailctl.api.paths import item_path, scope_path
from mailctl.api.pod_reads import PodsRead, read_pods
from mailctl.api.rows import checked, checked_rows, checked_value
from mailctl.errors import ApiError, NotFound
from mailctl.kinds import SPECS, Attribute, Owners, spec_of
from mailctl.kinds.fields import TEXT
from mailctl.kinds.list_entry import LIST_ENTRY_SPEC, read_entries, scoped_lists
from mailctl.resources import API_KEY, INBOX, POD, ActualState, DesiredState, Kind, Resource, pod_of

FAN_OUT = 16
SPECS_LISTED = tuple(spec.kind for spec in SPECS.values() if spec.list_key is not None)


# Deleting an inbox destroys all its mail, also what lists leave out unless asked for (mail
# labelled trash, spam, blocked or unauthenticated): the data-loss counts ask for all of it.
_HIDDEN_LABELS = ("trash", "spam", "blocked", "unauthenticated")
_HIDDEN = {f"include_{label}": "true" for label in _HIDDEN_LABELS}
_HIDDEN_TOO: dict[str, dict[str, Any]] = {"threads": _HIDDEN, "messages": _HIDDEN}


def _list_scopes(desired: DesiredState, narrowed: PodsRead | None) -> set[str | None]:
    """The scopes whose allow/block lists are managed (and so read): of the taken pods only, when
    the read is narrowed."""
    scopes = {r.parent for r in desired.resources.values() if spec_of(r.kind).manages_scope}
    scopes |= desired.list_scopes
    if narrowed is not None and not narrowed.organisation:
        scopes = {s for s in scopes if (pod := pod_of(s) if s else None) is not None and narrowed.takes_pod(pod)}
    return scopes


class StateReader:
    def __init__(self, client: AgentMailClient, parallelism: int = FAN_OUT, pods: list[dict[str, Any]] | None = None):
        """``pods``: every pod row, already listed (by the apply lock, a moment ago): not listed again."""
        self.client = client
        self.parallelism = max(1, parallelism)
        self._listing: _Background | None = None
        self._pods = pods
        self.lock_rows: list[dict[str, str]] = []  # pod_id and client_id of the lock pods the last read listed
        self.pods_listed = 0  # ... among how many pods

    def start_listing(self, pods_only: bool = False) -> None:
        """Start the organisation-wide lists now (they need no config); ``read`` picks them up.
        ``pods_only``: a narrowed plan (``--target``, ``--shard``) lists only the pods first.

        Reading a large organisation waits on the network while loading its config keeps the CPU
        busy: done at once they take about as long as the longer of the two."""
        self._listing = _Background(partial(self._list_organisation, (POD,)) if pods_only else self._list_organisation)

    def abandon_listing(self, then: Callable[[], None]) -> None:
        """The listing started is not wanted (the config failed to load): run ``then`` (closing
        the client) once it has ended, without waiting for it here. Closing the client under a
        request still running would break that request mid-way (the embedded sandbox would
        print its traceback)."""
        listing, self._listing = self._listing, None
        if listing is None:
            then()
        else:
            listing.then(then)

    def read(self, desired: DesiredState, narrowed: PodsRead | None = None) -> ActualState:
        """The actual state: everything, or (``narrowed``) only the pods a narrowed plan takes,
        when that costs fewer requests than the organisation-wide lists (``mailctl.api.pod_reads``)."""
        require_organisation_key(self.client)
        rows = self._rows(narrowed)
        owners = Owners(
            {row["pod_id"]: _pod_name(row) for row in rows[POD]},
            {row["inbox_id"].lower(): row.get("pod_id") for row in rows[INBOX]},
        )
        state = ActualState()
        for spec in SPECS.values():
            if spec.list_key is not None and spec.read_rows is not None:
                for resource in spec.read_rows(rows[spec.kind], owners):
                    state.add(resource)
            if spec.read_left_alone is not None:
                for scope, held in spec.read_left_alone(rows[spec.kind], owners).items():
                    state.left_alone.setdefault(scope, []).extend(held)
        self.read_lists(state, _list_scopes(desired, narrowed))
        self.read_sub_routes(desired, state)
        return state

    def _rows(self, narrowed: PodsRead | None) -> dict[Any, list[dict[str, Any]]]:
        """API rows by kind: the organisation-wide lists (started early by ``start_listing``, or
        read now), or the taken pods read one by one when that is cheaper. Lock pods left out."""
        listing, self._listing = self._listing, None
        pods, self._pods = self._pods, None  # listed a moment ago: good for this read only
        rows: dict[Any, list[dict[str, Any]]]
        if listing is not None:
            rows = listing.result()
        elif pods is not None:
            rows = {POD: checked_rows(spec_of(POD), pods)}  # the other kinds, if needed, are listed below
        else:
            rows = self._list_organisation((POD,)) if narrowed else self._list_organisation()
        self.pods_listed = len(rows[POD])
        self.lock_rows = [
            {"pod_id": row["pod_id"], "client_id": row["client_id"]}
            for row in rows[POD]
            if is_lock_pod(row.get("client_id")) and isinstance(row.get("pod_id"), str)
        ]
        rows[POD] = [row for row in rows[POD] if not is_reserved(row.get("client_id"))]
        if narrowed is not None and not narrowed.organisation:
            taken = [name for row in rows[POD] if narrowed.takes_pod(name := _pod_name(row))]
            if narrowed.cheaper(taken, len(rows[POD])):
                return read_pods(self.client, self._parallel, rows[POD], narrowed)
        if len(rows) < len(SPECS_LISTED):
            rows = {**self._list_organisation(tuple(k for k in SPECS_LISTED if k not in rows)), **rows}
        return rows

    def count_inbox_data(self, inbox_ids: list[str]) -> dict[str, dict[str, int]]:
        """Threads, messages and drafts each inbox holds: what deleting it destroys."""

        def count(inbox_id: str) -> dict[str, int]:
            base = f"/v0/inboxes/{quote_segment(inbox_id)}"
            return {
                what: sum(1 for _ in self.client.paginate(f"{base}/{what}", what, _HIDDEN_TOO.get(what)))
                for what in ("threads", "messages", "drafts")
            }

        return self._parallel({i: partial(count, i) for i in inbox_ids})

    def mail_unseen(self, actual: ActualState) -> str:
        """Why the run's key may not be shown all of an inbox's mail ("" when it is): a key whose
        permissions leave out a ``label_*_read`` flag is not listed mail under that label, and
        the API does not say so (agentmail-api.md §3.2). Its own permissions unreadable: unknown,
        so it is said too. The key read with the state (``actual``) is not asked for again."""
        try:
            me = identity(self.client)
            key_id = checked_value(me, "api_key_id", TEXT) if me is not None else None
            if not key_id:
                return "its own permissions cannot be read (GET /v0/auth/me names no api_key_id)"
            read = next((r for r in actual.resources.values() if r.kind == API_KEY and r.remote_id == key_id), None)
            key = read.attrs if read is not None else self.client.get(f"/v0/api-keys/{quote_segment(key_id)}")
        except ApiError as exc:
            return f"its own permissions cannot be read ({exc})"
        permissions = key.get("permissions")
        if not isinstance(permissions, dict):  # none: unrestricted
            return ""
        flags = [f"label_{label}_read" for label in _HIDDEN_LABELS]
        missing = [flag for flag in flags if permissions.get(flag) is not True]
        return f"it lacks {', '.join(missing)}" if missing else ""

    # -----------------------------------------------------------------------------------------

    def _list_organisation(self, kinds: tuple[Kind, ...] | None = None) -> dict[Any, list[dict[str, Any]]]:
        """Every row of every kind (``kinds``: of these) with an organisation-wide list, by kind."""
        return self._parallel(
            {
                spec.kind: partial(
                    list_both_ends,
                    self.client,
                    f"/v0{spec.route}",
                    key,
                    spec.remote_id_field or f"{spec.kind}_id",
                    partial(checked, spec),
                )
                for spec in SPECS.values()
                if (key := spec.list_key) is not None and (kinds is None or spec.kind in kinds)
            }
        )

    def domain_statuses(self, domains: list[Resource], state: ActualState) -> dict[str, str | None]:
        """Verification status of existing domains (list rows do not carry it): one GET each."""
        ids = _ids(state)

        def fetch(resource: Resource) -> str | None:
            try:
                status: str | None = checked_value(self.client.get(item_path(resource, ids)), "status", TEXT)
                return status
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
            for direction, list_type, path in scoped_lists(scope_path(scope, ids)):
                jobs[(scope, direction, list_type)] = partial(self._list_or_empty, path)
        for (scope, direction, list_type), rows in self._parallel(jobs).items():
            for entry in read_entries(rows, scope, direction, list_type):
                state.add(entry)

    def read_sub_routes(self, desired: DesiredState, state: ActualState) -> None:
        """Attributes the API keeps at their own route (a webhook's header names): one GET per
        existing resource whose declaration manages them, and none for any other."""
        ids = _ids(state)
        jobs: dict[tuple[str, str], Callable[[], Any]] = {}
        for address, want in desired.resources.items():
            have = state.resources.get(address)
            for attr in spec_of(want.kind).attributes:
                if have and attr.sub_route and attr.name in want.attrs and attr.name not in want.ignore_changes:
                    jobs[(address, attr.name)] = partial(self._read_sub_route, item_path(have, ids), attr)
        for (address, name), value in self._parallel(jobs).items():
            state.resources[address].attrs[name] = value

    def _read_sub_route(self, item: str, attr: Attribute) -> Any:
        names = checked_value(self.client.get(f"{item}/{attr.sub_route}"), attr.read_key, attr.api_type) or []
        return attr.normalise(names) if attr.normalise else names

    def _list_or_empty(self, path: str) -> list[dict[str, Any]]:
        try:
            return checked_rows(LIST_ENTRY_SPEC, self.client.list_all(path, "entries"))
        except NotFound:
            return []

    def _parallel(self, jobs: dict[Any, Callable[[], Any]]) -> dict[Any, Any]:
        if len(jobs) <= 1:
            return {key: job() for key, job in jobs.items()}
        with ThreadPoolExecutor(max_workers=min(self.parallelism, len(jobs))) as pool:
            futures = {key: pool.submit(job) for key, job in jobs.items()}
            return {key: future.result() for key, future in futures.items()}


def _pod_name(row: dict[str, Any]) -> str:
    """The pod segment of addresses: its client_id, or its pod_id when it has none."""
    name: str = row.get("client_id") or row["pod_id"]
    return name


def _ids(state: ActualState) -> dict[str, str]:
    return {a: r.remote_id for a, r in state.resources.items() if r.remote_id is not None}


_JOIN_SLICE = 0.1  # seconds: how soon the main thread sees a signal while it waits


class _Background:
    """One call run on a daemon thread: a command that fails meanwhile exits without waiting for it."""

    def __init__(self, call: Callable[[], Any]):
        self._call = call
        self._value: Any = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="mailctl-listing", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._value = self._call()
        except BaseException as exc:  # re-raised in the caller's thread by result()
            self._error = exc

    def then(self, call: Callable[[], None]) -> None:
        """Run ``call`` on another daemon thread once this one has ended."""

        def after() -> None:
            self._thread.join()
            call()

        threading.Thread(target=after, name="mailctl-listing-then", daemon=True).start()

    def result(self) -> Any:
        # In slices: a main thread blocked in one untimed join can miss a signal (CPython does not
        # always wake it), and Ctrl-C then waited for the request in flight (issue 17 point 5).
        while self._thread.is_alive():
            self._thread.join(_JOIN_SLICE)
        if self._error is not None:
            raise self._error
        return self._value
