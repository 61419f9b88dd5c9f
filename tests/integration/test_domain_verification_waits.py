"""Inboxes on an unverified domain are deferred, not failed; once DNS is published they land."""

from __future__ import annotations

import threading

import httpx

from mailctl.api.client import AgentMailClient
from mailctl.api.reader import StateReader
from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.apply import DEFERRED, DONE, Applier
from mailctl.plan.planner import plan
from mailctl.resources import DOMAIN, INBOX, POD, DesiredState, Resource
from mailctl.sandbox.app import create_app

KEY = "am_test_domain_waits_key"


def _desired() -> DesiredState:
    desired = DesiredState()
    desired.add(Resource(POD, "pod/tenant-a", {"name": "A"}))
    desired.add(Resource(DOMAIN, "pod/tenant-a/domain/mail.a.example", {}, parent="pod/tenant-a"))
    desired.add(Resource(INBOX, "pod/tenant-a/inbox/help@mail.a.example", {}, parent="pod/tenant-a"))
    return desired


def _apply(client: AgentMailClient, desired: DesiredState, wait: float = 0.0):
    actual = StateReader(client).read(desired)
    ids = IdRegistry({a: r.remote_id for a, r in actual.resources.items() if r.remote_id})
    writer = ApiWriter(client, ids, domain_wait=wait, poll_interval=0.01)
    return Applier(writer).apply(plan(desired, actual))


def test_inbox_waits_for_its_domain_then_lands_after_dns_is_published():
    app = create_app(api_keys=(KEY,), domain_verification="manual")
    client = AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app))
    desired = _desired()

    first = _apply(client, desired)
    outcome = {r.address: r.outcome for r in first.results}
    assert outcome["pod/tenant-a/domain/mail.a.example"] == DONE
    assert outcome["pod/tenant-a/inbox/help@mail.a.example"] == DEFERRED
    assert "not verified yet" in first.having(DEFERRED)[0].message

    client.post("/_sandbox/domains/mail.a.example/dns", {"published": True})
    second = _apply(client, desired, wait=1.0)
    assert [(r.address, r.outcome) for r in second.results] == [("pod/tenant-a/inbox/help@mail.a.example", DONE)]
    assert plan(desired, StateReader(client).read(desired)).changes == []


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _interrupted_wait(limit: float) -> str:
    """An apply waiting up to ``limit`` s for a domain that never verifies, stopped (a signal)
    3 s into the wait; the deferred inbox's message."""
    app = create_app(api_keys=(KEY,), domain_verification="manual")
    client = AgentMailClient("http://sandbox", KEY, transport=httpx.WSGITransport(app=app))
    desired = _desired()
    actual = StateReader(client).read(desired)
    stop, clock = threading.Event(), _Clock()

    def sleep(seconds: float) -> None:
        clock.now += 3.0
        stop.set()  # the first signal arrives while the writer waits: it stops waiting

    writer = ApiWriter(client, IdRegistry({}), domain_wait=limit, stop=stop, sleep=sleep, clock=clock)
    result = Applier(writer, parallelism=1).apply(plan(desired, actual))
    (deferred,) = result.having(DEFERRED)
    return deferred.message


def test_a_wait_cut_short_by_a_signal_says_how_long_it_really_waited():
    message = _interrupted_wait(600)
    assert "after waiting 3.0s of --wait-for-domains 600s (the wait was interrupted)" in message
    assert "after waiting 600s" not in message
