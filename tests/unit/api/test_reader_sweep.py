"""What the mutation sweep of ``api/reader.py`` found unpinned: each test names the line whose
deletion (or negated ``if``) it catches
(``.ci/mutate.py --worktree --sweep src/mailctl/api/reader.py tests/unit/api/test_reader_scopes.py
... tests/unit/api/test_reader_sweep.py``).

Every test reads an in-process sandbox through a real client; the sandbox's request stats say
which requests the reader made."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mailctl.api import reader as reader_module
from mailctl.api.client import AgentMailClient
from mailctl.api.reader import StateReader
from mailctl.errors import ApiError
from mailctl.resources import DesiredState, domain_address, pod_address
from mailctl.sandbox import create_app

KEY = "am_reader_sweep_test_org_key_0123456789"
# A point on P-256 (its generator): a valid public-key (AgentID) credential for the sandbox.
_GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
_GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5


def _b64(n: int) -> str:
    return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()


@dataclass
class Api:
    http: httpx.Client  # the test's own view of the organisation
    app: Any

    def client(self) -> AgentMailClient:
        return AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=self.app), sleep=lambda s: None)

    def pod(self, client_id: str, name: str | None = None) -> str:
        made = self.http.post("/v0/pods", json={"client_id": client_id, "name": name or client_id.upper()})
        made.raise_for_status()
        return str(made.json()["pod_id"])


@pytest.fixture
def api() -> Iterator[Api]:
    app = create_app(api_keys=(KEY,), domain_verification="manual")
    headers = {"Authorization": f"Bearer {KEY}"}
    with httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://sandbox", headers=headers) as http:
        yield Api(http, app)


def _stats(api: Api) -> dict[str, int]:
    routes: dict[str, int] = api.http.get("/_sandbox/stats").json()["by_route"]
    return {route: n for route, n in routes.items() if "/_sandbox/" not in route}


# -- _list_scopes ----------------------------------------------------------------------------------


def test_an_empty_lists_section_still_reads_that_scopes_entries(api: Api) -> None:
    """``scopes |= desired.list_scopes`` in ``_list_scopes``: a ``lists:`` key with no entries
    makes mailctl own the scope's lists (so the plan deletes what is there). Without the line the
    reader never reads them, and entries made by hand are silently kept."""
    api.http.post("/v0/lists/receive/block", json={"entry": "spam.example"}).raise_for_status()
    with api.client() as client:
        state = StateReader(client).read(DesiredState(list_scopes={None}))
    assert "list/receive/block/spam.example" in state.resources
    assert (
        _stats(api).get("GET /v0/lists/{direction}/{type}") == 6
    )  # each list once: send, receive, reply x allow, block


# -- abandon_listing -------------------------------------------------------------------------------


def test_abandoning_when_no_listing_was_started_still_runs_the_closing_at_once() -> None:
    """``then()`` in ``abandon_listing`` when no listing runs: the CLI passes ``client.close``;
    without it a config that fails to load before any listing leaves the client open."""
    closed: list[str] = []
    reader = StateReader(AgentMailClient("http://unused.test", KEY, transport=httpx.MockTransport(lambda r: None)))
    reader.abandon_listing(lambda: closed.append(threading.current_thread().name))
    assert closed == [threading.current_thread().name]  # at once, on the caller's thread


# -- read ------------------------------------------------------------------------------------------


def test_a_public_key_credential_is_reported_as_held_by_its_pod(api: Api) -> None:
    """``state.left_alone.setdefault(scope, []).extend(held)`` in ``read``: deleting a pod deletes
    the public-key credentials it holds, which mailctl never manages; the rails warn of them only
    if the read reports them."""
    pod_id = api.pod("tenant-a")
    jwk = {"kty": "EC", "crv": "P-256", "x": _b64(_GX), "y": _b64(_GY)}
    api.http.post(f"/v0/pods/{pod_id}/api-keys", json={"public_key": jwk, "name": "sign-in"}).raise_for_status()
    with api.client() as client:
        state = StateReader(client).read(DesiredState())
    assert state.left_alone == {pod_address("tenant-a"): ["public-key credential sign-in"]}


# -- _rows: what a sharded apply's sibling watch is handed ------------------------------------------


def test_a_read_reports_the_lock_pods_it_listed_and_how_many_pods_there_were(api: Api) -> None:
    """``self.pods_listed = len(rows[POD])`` and ``self.lock_rows = [...]`` in ``_rows``: a shard
    told the rate limit learns which sibling shards run (and what listing the pods again costs)
    from them. Without them it never sees a sibling end, keeping its small part of the budget."""
    api.pod("tenant-a")
    sibling = api.pod("mailctl.lock.shard-2-of-3", "mailctl lock ci@runner pid 1 since x [y]")
    with api.client() as client:
        reader = StateReader(client)
        state = reader.read(DesiredState())
    assert reader.lock_rows == [{"pod_id": sibling, "client_id": "mailctl.lock.shard-2-of-3"}]
    assert reader.pods_listed == 3  # the Default Pod, tenant-a and the lock pod
    assert not any("mailctl.lock" in address for address in state.resources)  # the lock pod stays hidden


# -- domain_statuses -------------------------------------------------------------------------------


def test_the_status_of_an_existing_domain_is_read_with_one_get(api: Api) -> None:
    """``ids = _ids(state)`` in ``domain_statuses``: the domain's id comes from the state read;
    without it every plan that creates an inbox on an existing domain crashed (NameError)."""
    pod_id = api.pod("tenant-a")
    made = api.http.post(f"/v0/pods/{pod_id}/domains", json={"domain": "mail.a.example"})
    made.raise_for_status()
    with api.client() as client:
        reader = StateReader(client)
        state = reader.read(DesiredState())
        domain = state.resources[domain_address("mail.a.example", pod="tenant-a")]
        before = _stats(api)
        statuses = reader.domain_statuses([domain], state)
        after = _stats(api)
    assert statuses == {domain.address: "PENDING"}
    gets = [r for r in after if r.startswith("GET ") and "domains/{" in r]
    assert sum(after[r] - before.get(r, 0) for r in gets) == 1


# -- _list_or_empty --------------------------------------------------------------------------------


def test_the_lists_of_a_pod_deleted_since_it_was_listed_read_as_empty(api: Api) -> None:
    """``return []`` on a 404 in ``_list_or_empty``: a pod deleted by someone else between the
    listing and the read of its lists has no entries; without it the read failed with a TypeError."""
    pod_id = api.pod("tenant-a")
    api.http.post(f"/v0/pods/{pod_id}/lists/receive/block", json={"entry": "spam.example"}).raise_for_status()
    with api.client() as client:
        reader = StateReader(client)
        state = reader.read(DesiredState())
        api.http.delete(f"/v0/pods/{pod_id}").raise_for_status()
        reader.read_lists(state, {pod_address("tenant-a")})
    assert not [address for address in state.resources if "/list/" in address]
    assert _stats(api).get("GET /v0/pods/{pod_id}/lists/{direction}/{type}") == 6  # each one asked, each a 404


# -- _Background -----------------------------------------------------------------------------------


def test_a_listing_started_early_that_fails_raises_its_error_from_the_read(api: Api) -> None:
    """``self._error = exc`` in ``_Background._run`` and ``raise self._error`` in ``result``: the
    error of a list read while the config loaded is the one reported; without them the read went
    on with no rows (a TypeError, or an empty state planning every declared resource as new)."""
    fault = {"method": "GET", "route": "/v0/webhooks", "status": 403, "code": "forbidden"}
    api.http.post("/_sandbox/faults", json=fault).raise_for_status()
    with AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=api.app), max_retries=0) as client:
        reader = StateReader(client)
        reader.start_listing()
        with pytest.raises(ApiError) as caught:
            reader.read(DesiredState())
    assert "GET /v0/webhooks" in str(caught.value)


def test_waiting_for_the_listing_started_early_joins_in_slices_rather_than_spinning(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``self._thread.join(_JOIN_SLICE)`` in ``_Background.result``: the main thread waits for the
    listing in short joins (a signal still wakes it); without the join it spun, a core busy for
    as long as the API took. Counted, not timed: the waiting thread's joins of the listing."""
    joins: list[float | None] = []
    join = threading.Thread.join

    def recorded(thread: threading.Thread, timeout: float | None = None) -> None:
        if thread.name == "mailctl-listing" and threading.current_thread() is threading.main_thread():
            joins.append(timeout)
        join(thread, timeout)

    monkeypatch.setattr(threading.Thread, "join", recorded)
    api.http.patch("/_sandbox/config", json={"latency_ms": 300}).raise_for_status()
    with api.client() as client:
        reader = StateReader(client)
        reader.start_listing()
        reader.read(DesiredState())
    assert joins and all(t == reader_module._JOIN_SLICE for t in joins)
