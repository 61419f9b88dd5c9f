"""After the first Ctrl-C or SIGTERM no new change starts (README, Signals): a step handed to a
worker that has not sent its first request yet (it waits for its turn in the pace) is not
started, even once its turn comes. Before, every step already handed over ran: under
--rate-limit 2 a Ctrl-C was followed by dozens of creates and tens of seconds."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mailctl.api.client import AgentMailClient
from mailctl.api.writer import ApiWriter, IdRegistry
from mailctl.apply import DONE, NOT_STARTED, Applier, StepResult
from mailctl.ops.planning import open_client
from mailctl.plan.changes import CREATE, Change, Plan
from mailctl.resources import POD, Resource, pod_address

PODS = 24


@pytest.fixture
def client(tmp_path: Path) -> Iterator[AgentMailClient]:
    api = open_client(None, str(tmp_path / "sandbox.db"), "am_unused", 30.0, rate_limit=4.0)
    try:
        yield api
    finally:
        api.close()


def creates(count: int) -> Plan:
    pods = [Resource(POD, pod_address(f"p{i:02d}"), {"name": f"P{i}"}) for i in range(count)]
    return Plan(changes=[Change(CREATE, p.address, desired=p) for p in pods])


def test_steps_waiting_for_their_turn_do_not_start_once_stopped(client: AgentMailClient) -> None:
    stop = threading.Event()

    def on_results(results: list[StepResult]) -> None:
        if any(r.outcome == DONE for r in results):
            stop.set()  # the first Ctrl-C, as soon as one change is done

    writer = ApiWriter(client, IdRegistry({}), None, stop=stop)
    result = Applier(writer, parallelism=16, stop=stop, on_results=on_results).apply(creates(PODS))
    done = [r for r in result.results if r.outcome == DONE]
    unstarted = [r for r in result.results if r.outcome == NOT_STARTED]
    made = [p for p in client.list_all("/v0/pods", "pods") if str(p.get("client_id", "")).startswith("p")]
    assert len(done) == len(made)  # what was sent is reported done, nothing else was made
    assert len(done) <= 6, [r.address for r in done]  # at 4 requests/s, those sent by then (all 24 before)
    assert len(unstarted) == PODS - len(done)
    assert {r.message for r in unstarted} == {"interrupted before it started"}


def test_a_step_under_way_finishes_whatever_stop_says(client: AgentMailClient) -> None:
    """Once a step's first request is out, the rest of the step is sent: what started finishes."""
    from mailctl.api.client import first_request_unless

    stop = threading.Event()
    with first_request_unless(stop):
        client.post("/v0/pods", {"client_id": "a", "name": "A"}, idempotent=True)
        stop.set()
        client.post("/v0/pods", {"client_id": "b", "name": "B"}, idempotent=True)  # the same step: sent
    ids = {p.get("client_id") for p in client.list_all("/v0/pods", "pods")}
    assert {"a", "b"} <= ids


def test_a_request_waiting_for_its_turn_stops_waiting_when_abandoned() -> None:
    """The wait itself ends: at 0.1 requests/s the second turn is 10 s away, and a stopped run
    must not sit through the queue of turns before it reports (CI's grace period is short)."""
    from mailctl.api.budget import Budget
    from mailctl.api.pacing import Pacer
    from mailctl.errors import NotStarted

    pacer = Pacer(budget=Budget(0.1))
    pacer.release(pacer.acquire(), 200)  # the budget's burst: one request at once
    abandon, raised = threading.Event(), []

    def second() -> None:
        try:
            pacer.acquire(abandon=abandon)
        except NotStarted as exc:
            raised.append(exc)

    waiting = threading.Thread(target=second, daemon=True)
    waiting.start()
    abandon.set()
    waiting.join(timeout=3)  # a liveness bound, far below the 10 s turn
    assert not waiting.is_alive() and len(raised) == 1
