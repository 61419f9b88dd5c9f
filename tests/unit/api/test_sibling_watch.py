"""A shard told the rate limit takes up the parts of the shards that have ended (issue 19 point 4:
"a shard alone must grow into the budget that the others have freed"), learning that they ended
from their lock pods, over real HTTP against the sandbox."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mailctl.api import siblings
from mailctl.api.budget import Budget
from mailctl.api.client import AgentMailClient
from mailctl.api.lock import shard_lock_id
from mailctl.api.pacing import SHARD_OVERHEAD, Pacer, Ticket
from mailctl.api.siblings import SiblingWatch
from mailctl.sandbox.app import create_app
from mailctl.sandbox.server import run_in_thread

KEY = "am_unit_sibling_watch_0123456789abcdef"
WORKS = [10, 10, 40, 20]  # resources of shards 1..4; this client is shard 3
RATE = 20.0


@pytest.fixture
def client() -> Iterator[AgentMailClient]:
    url, stop = run_in_thread(create_app(api_keys=(KEY,)))
    client = AgentMailClient(url, KEY, max_retries=0)
    yield client
    client.close()
    stop()


def _lock(client: AgentMailClient, k: int) -> dict[str, str]:
    pod: Any = client.post("/v0/pods", {"client_id": shard_lock_id(k, 4), "name": f"mailctl lock shard {k}"})
    return {"pod_id": pod["pod_id"], "client_id": pod["client_id"]}


def _pacer() -> Pacer:
    pacer = Pacer(budget=Budget(RATE))
    pacer.share(WORKS, 2)
    return pacer


def _part(*running: int) -> float:
    """Shard 3's part of the budget while shards ``running`` (1-based, itself included) run."""
    return RATE * (WORKS[2] + SHARD_OVERHEAD) / sum(WORKS[k - 1] + SHARD_OVERHEAD for k in running)


@pytest.mark.parametrize("pods", [4, 1000], ids=["listing-the-pods", "asking-for-each-lock"])
def test_a_sibling_whose_lock_is_gone_frees_its_part_and_one_still_running_does_not(
    client: AgentMailClient, pods: int
) -> None:
    locks = {k: _lock(client, k) for k in (1, 2, 3, 4)}
    pacer = _pacer()
    watch = SiblingWatch(client, pacer, (3, 4), list(locks.values()), pods)
    assert watch.pages == (1 if pods == 4 else 10)
    watch.round()
    assert watch.ended == [] and pacer.rate == pytest.approx(_part(1, 2, 3, 4))  # all still run

    client.delete(f"/v0/pods/{locks[2]['pod_id']}")  # shard 2 ends
    watch.round()
    assert watch.ended == [2] and sorted(watch.running) == [1, 4]
    assert pacer.rate == pytest.approx(_part(1, 3, 4))

    for k in (1, 4):
        client.delete(f"/v0/pods/{locks[k]['pod_id']}")
    watch.round()
    assert sorted(watch.ended) == [1, 2, 4] and watch.running == {}
    assert pacer.rate == pytest.approx(RATE)  # alone: the whole budget


def test_a_sibling_not_seen_by_the_plan_is_looked_for_once_then_counts_as_ended(client: AgentMailClient) -> None:
    own = _lock(client, 3)
    late = _lock(client, 4)  # took its lock after this shard's plan listed the pods
    pacer = _pacer()
    watch = SiblingWatch(client, pacer, (3, 4), [own])
    watch.round()
    assert watch.running == {4: late["pod_id"]}  # found in the listing: watched from now on
    assert sorted(watch.ended) == [1, 2]  # in neither listing: done already (or never started)
    assert pacer.rate == pytest.approx(_part(3, 4))


def test_the_watch_thread_tells_the_pacer_and_stops_on_exit(client: AgentMailClient, monkeypatch) -> None:
    monkeypatch.setattr(siblings, "FIRST_ROUND", 0.0)
    monkeypatch.setattr(siblings, "MIN_INTERVAL", 0.05)
    monkeypatch.setattr(siblings, "POLL_SHARE", 1000.0)  # rounds every MIN_INTERVAL
    locks = {k: _lock(client, k) for k in (1, 2, 4)}
    pacer = _pacer()
    ended = threading.Event()
    told = pacer.sibling_ended

    def sibling_ended(index: int) -> bool:
        result = told(index)
        ended.set()
        return result

    monkeypatch.setattr(pacer, "sibling_ended", sibling_ended)
    with SiblingWatch(client, pacer, (3, 4), list(locks.values())) as watch:
        client.delete(f"/v0/pods/{locks[1]['pod_id']}")
        assert ended.wait(10)
    assert watch._thread is not None and not watch._thread.is_alive()
    assert watch.ended == [1] and pacer.rate == pytest.approx(_part(2, 3, 4))


def test_an_api_error_ends_the_watch_and_the_shard_keeps_its_part(client: AgentMailClient) -> None:
    locks = [_lock(client, k) for k in (1, 2, 4)]
    pacer = _pacer()
    broken = AgentMailClient(client.base_url, "am_wrong_key_0123456789abcdef", max_retries=0)
    try:
        with SiblingWatch(broken, pacer, (3, 4), locks) as watch:
            watch._run()  # the round fails with 401: no news, no exception
        assert watch.ended == [] and pacer.rate == pytest.approx(_part(1, 2, 3, 4))
    finally:
        broken.close()


def test_the_rounds_spend_at_most_their_share_of_the_pace(client: AgentMailClient) -> None:
    pacer = _pacer()
    watch = SiblingWatch(client, pacer, (3, 4), [])  # never sends here
    interval = watch.interval()
    cost = min(watch.pages, len(watch.running))  # a listing of the pods, or a GET per sibling
    assert cost / interval <= siblings.POLL_SHARE * _part(1, 2, 3, 4) + 1e-9
    assert interval >= siblings.MIN_INTERVAL


def test_a_pacer_not_sharing_ignores_news_and_its_own_index_is_never_ended() -> None:
    alone = Pacer(budget=Budget(RATE))
    assert alone.sibling_ended(1) is False and alone.rate == pytest.approx(RATE)
    pacer = _pacer()
    assert pacer.sibling_ended(2) is False  # itself
    assert pacer.sibling_ended(7) is False  # no such shard
    assert pacer.sibling_ended(0) is True and pacer.sibling_ended(0) is False


@pytest.mark.parametrize("pods", [4, 1000], ids=["listing-the-pods", "asking-for-each-lock"])
def test_the_rounds_requests_go_first_in_line(client: AgentMailClient, monkeypatch, pods: int) -> None:
    """A round's news may free budget for every request waiting: it does not wait behind them."""
    monkeypatch.setattr(siblings, "FIRST_ROUND", 0.0)
    locks = {k: _lock(client, k) for k in (1, 2, 4)}
    pacer = _pacer()
    client.pacer = pacer
    firsts: list[bool] = []
    plain_acquire = pacer.acquire

    def acquire(
        patience: float = math.inf, turn_patience: float = math.inf, first: bool = False, **more: Any
    ) -> Ticket:
        firsts.append(first)
        return plain_acquire(patience, turn_patience, first, **more)

    monkeypatch.setattr(pacer, "acquire", acquire)
    client.delete(f"/v0/pods/{locks[1]['pod_id']}")
    firsts.clear()
    with SiblingWatch(client, pacer, (3, 4), list(locks.values()), pods) as watch:
        for _ in range(500):
            if watch.ended:
                break
            threading.Event().wait(0.01)
    assert watch.ended == [1]
    assert firsts and all(firsts)
    client.get("/v0/pods")  # the client itself still queues
    assert firsts[-1] is False


def test_the_end_of_the_watch_does_not_wait_out_a_round_stuck_in_a_slow_api(monkeypatch) -> None:
    """The apply ends while a round's request hangs: the watch ends at once (within JOIN_WAIT),
    the round fails unheard once the client is closed, and its late answer tells the pacer nothing."""
    monkeypatch.setattr(siblings, "FIRST_ROUND", 0.0)
    entered, release = threading.Event(), threading.Event()

    def slow_api(request: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(10)
        return httpx.Response(404, json={"name": "NotFoundError", "message": "gone"})

    client = AgentMailClient("http://sandbox", KEY, transport=httpx.MockTransport(slow_api), max_retries=0)
    pacer = _pacer()
    before = pacer.rate
    raised: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    locks = [{"pod_id": f"lock-{k}", "client_id": shard_lock_id(k, 4)} for k in (1, 2, 4)]
    with SiblingWatch(client, pacer, (3, 4), locks, pods=1000) as watch:
        assert entered.wait(10)
    assert watch._thread is not None and watch._thread.is_alive()  # not waited for
    client.close()
    release.set()  # the answers come (404: every sibling ended), too late to count
    watch._thread.join(10)
    assert not watch._thread.is_alive() and raised == []
    assert watch.ended == [] and pacer.rate == before


def test_a_listing_round_cut_off_by_the_closed_client_ends_unheard(monkeypatch) -> None:
    """The apply ends during a listing of the pods: the next page is asked of a closed client,
    which raises what httpx raises; the watch, ended, swallows it (no thread traceback)."""
    monkeypatch.setattr(siblings, "FIRST_ROUND", 0.0)
    entered, release = threading.Event(), threading.Event()

    def slow_pages(request: httpx.Request) -> httpx.Response:
        entered.set()
        release.wait(10)
        return httpx.Response(200, json={"count": 1, "pods": [], "next_page_token": "more"})

    client = AgentMailClient("http://sandbox", KEY, transport=httpx.MockTransport(slow_pages), max_retries=0)
    raised: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    with SiblingWatch(client, _pacer(), (3, 4), [], pods=4) as watch:  # no lock seen: a listing
        assert entered.wait(10)
    client.close()
    release.set()
    assert watch._thread is not None
    watch._thread.join(10)
    assert not watch._thread.is_alive() and raised == [] and watch.ended == []
