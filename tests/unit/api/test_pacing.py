"""The adaptive concurrency controller on a fake clock: grows when flat, halves on 429, one shared
pause for Retry-After, paces to the accepted rate, caps at the maximum; and the client's 429s
under a pacer are retried within the budget, not failed."""

from __future__ import annotations

import itertools
import logging
import threading

import httpx
import pytest
from client_harness import error, replies

from mailctl.api.pacing import (
    DECREASE,
    DOUBLING,
    PLATEAU,
    PROBE,
    RAMP,
    RAMP_DOUBLINGS,
    START,
    START_RATE,
    Pacer,
    PauseTooLong,
)
from mailctl.errors import TransientError


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _round(pacer: Pacer, time: FakeTime, latency: float = 0.05, status: int = 200) -> None:
    """Fill every slot, then answer them all after ``latency``."""
    tickets = [pacer.acquire() for _ in range(pacer.limit)]
    time.now += latency
    for ticket in tickets:
        pacer.release(ticket, status)


def _paced_client(harness, time: FakeTime, handler, pacer_options=None, **options):
    """A client on ``time``'s clock, its pacer (``pacer_options``) on that clock too."""
    pacer = Pacer(**(pacer_options or {}), clock=time.clock, sleep=time.sleep)
    return harness.client(handler, sleep=time.sleep, clock=time.clock, pacer=pacer, **options)


def _past_the_ramp(pacer: Pacer, time: FakeTime) -> Pacer:
    """One request, then time enough that the pace before any 429 no longer binds."""
    ticket = pacer.acquire()
    time.now += 0.05
    pacer.release(ticket, 200)
    time.now += RAMP * RAMP_DOUBLINGS
    return pacer


def _refused_after_two_per_second(time: FakeTime) -> Pacer:
    """A pacer that ran one request at a time, 2 per second, then was refused once (Retry-After 1 s)."""
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    for _ in range(10):
        ticket = pacer.acquire()
        time.now += 0.5
        pacer.release(ticket, 200)
    pacer.release(pacer.acquire(), 429, retry_after=1.0)
    return pacer


def test_auto_starts_modestly_and_grows_while_latency_is_flat():
    time = FakeTime()
    pacer = _past_the_ramp(Pacer(clock=time.clock, sleep=time.sleep), time)
    assert pacer.limit == START
    _round(pacer, time)
    assert pacer.limit > START + START // 2  # slow start: one more per success that used the limit
    grown = pacer.limit
    _round(pacer, time)
    assert pacer.limit > grown + grown // 2
    assert time.sleeps == []  # nothing refused, nothing paced


def test_turns_claimed_together_at_the_start_follow_the_ramp_not_the_pace_they_were_claimed_at():
    """64 workers asking at once (an apply's first batch): each turn's gap is the ramp's pace at
    that turn. Spaced at the pace of the moment they were claimed (START_RATE), the 64th would
    start 63 / START_RATE = 1.6 s in, and every later request would queue behind that backlog
    long after the pace had doubled past what the API ever asked for."""
    sleeps: list[float] = []  # 64 threads at the same instant: the clock does not move
    pacer = Pacer(fixed=64, clock=lambda: 100.0, sleep=sleeps.append)
    for _ in range(64):
        pacer.acquire()
    turns = [0.0, *sleeps]
    gaps = [b - a for a, b in itertools.pairwise(turns)]
    assert all(later < earlier for earlier, later in itertools.pairwise(gaps))  # the pace grows
    assert gaps[0] == pytest.approx(1 / START_RATE)  # ... from START_RATE: still a ramp
    # the ramp's own curve, START_RATE x 2 ** (t / RAMP), lets 63 requests start within
    # RAMP x log2(1 + 63 ln 2 / (START_RATE x RAMP)) = 0.41 s (stepwise, a little later)
    assert 0.35 < turns[-1] < 0.55


def test_growth_stops_when_latency_rises():
    time = FakeTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    _round(pacer, time, latency=0.05)
    grown = pacer.limit
    for _ in range(5):
        _round(pacer, time, latency=0.5)  # the server queues: ten times slower
    assert pacer.limit <= grown + 1


def test_the_limit_is_capped_at_max_parallelism():
    time = FakeTime()
    pacer = _past_the_ramp(Pacer(maximum=20, clock=time.clock, sleep=time.sleep), time)
    for _ in range(10):
        _round(pacer, time)
    assert pacer.limit == 20


def test_a_fixed_parallelism_never_moves():
    time = FakeTime()
    pacer = Pacer(fixed=5, clock=time.clock, sleep=time.sleep)
    _round(pacer, time)
    _round(pacer, time, status=429)
    assert pacer.limit == 5


def test_a_429_halves_the_limit_once_per_burst():
    time = FakeTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    _round(pacer, time)
    _round(pacer, time)
    before = pacer.limit
    tickets = [pacer.acquire() for _ in range(6)]
    for ticket in tickets:  # six refusals of one burst: one decrease, not six
        pacer.release(ticket, 429, retry_after=1.0)
    assert pacer.limit == before // 2
    assert pacer.refusals == 6


def test_retry_after_pauses_every_worker_once():
    time = FakeTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    first, second = pacer.acquire(), pacer.acquire()
    pacer.release(first, 429, retry_after=3.0)
    pacer.release(second, 429, retry_after=3.0)  # the same pause, not a second one after it
    assert pacer.pause_left() == pytest.approx(3.0)
    started = time.now
    pacer.acquire()  # any worker: waits for the shared pause
    assert time.now - started == pytest.approx(3.0)
    assert pacer.pause_left() == 0


def test_after_a_429_requests_are_paced_to_the_rate_the_api_accepted():
    time = FakeTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    for _ in range(4):  # 4 successes over about 2 s: the API accepts about 2 per second
        ticket = pacer.acquire()
        time.now += 0.5
        pacer.release(ticket, 200)
    pacer.release(pacer.acquire(), 429, retry_after=1.0)
    assert pacer.rate == pytest.approx(2.0 * DECREASE, rel=0.01)
    time.now += 1.0  # the pause is over
    starts = []
    for _ in range(3):  # within the plateau
        ticket = pacer.acquire()
        starts.append(ticket.started)
        pacer.release(ticket, 200)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # one start per 1/rate, the rate climbing from 0.9 x 2/s back towards 2/s
    assert all(1 / 2.0 <= gap <= 1 / (2.0 * DECREASE) + 1e-9 for gap in gaps)


def test_the_pace_climbs_back_past_the_refused_rate_without_refusals():
    time = FakeTime()
    pacer = _refused_after_two_per_second(time)
    low = pacer.rate
    time.now += PLATEAU
    assert pacer.rate == pytest.approx(low / DECREASE, rel=0.01)  # the refused rate again
    time.now += 3 * DOUBLING
    assert pacer.rate > 2 * low  # then faster, to find room another client freed


def test_a_paced_client_retries_429s_beyond_max_retries_within_the_budget(harness):
    time = FakeTime()
    answers = [error(429, "rate_limit_exceeded", **{"Retry-After": "2"})] * 9 + [httpx.Response(200, json={"ok": 1})]
    client = _paced_client(harness, time, replies(*answers), max_retries=3, pacer_options={"fixed": 4})
    assert client.get("/v0/pods") == {"ok": 1}
    assert len(harness.requests) == 10 and client.pacer.refusals == 9


def test_a_paced_client_gives_up_on_429s_only_when_the_budget_is_spent(harness):
    time = FakeTime()
    client = _paced_client(
        harness, time, lambda r: error(429, "rate_limit_exceeded", **{"Retry-After": "25"}), timeout=10
    )
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    assert caught.value.status == 429
    assert len(harness.requests) == 3  # 0 s, 25 s, 50 s; a wait to 75 s would pass the 60 s budget


def test_a_client_left_alone_reaches_four_times_the_refused_rate_seconds_after_the_plateau():
    """The other shards finished: the budget they used is free, and the pace finds it quickly."""
    time = FakeTime()
    pacer = _refused_after_two_per_second(time)
    refused = pacer.rate / DECREASE
    time.now += PLATEAU + PROBE + 2 * DOUBLING  # the plateau, the probe, then two doublings
    assert pacer.rate >= 4 * refused * 0.99


def test_just_past_the_plateau_the_pace_probes_a_little_before_it_doubles():
    """A limit still in place refuses a probe a few percent over it, not a doubled pace."""
    time = FakeTime()
    pacer = _refused_after_two_per_second(time)
    refused = pacer.rate / DECREASE
    time.now += PLATEAU + PROBE
    assert refused < pacer.rate <= 1.05 * refused


def test_a_pause_longer_than_the_callers_patience_is_refused_at_once_and_takes_no_slot():
    time = FakeTime()
    pacer = Pacer(fixed=1, clock=time.clock, sleep=time.sleep)
    pacer.release(pacer.acquire(), 429, retry_after=1e9)  # a server asking for years
    with pytest.raises(PauseTooLong) as caught:
        pacer.acquire(patience=60)
    assert caught.value.seconds == pytest.approx(1e9) and time.sleeps == []
    time.now += 1e9
    pacer.acquire(patience=60)  # the one slot was given back: a later request still gets it


def test_a_pause_that_starts_while_a_request_waits_its_turn_is_not_waited_out_past_its_patience():
    time = FakeTime()
    pacer = _refused_after_two_per_second(time)  # paced: the next requests wait for their turns
    time.now += 5
    first = pacer.acquire()
    second_turn: list[float] = []

    def refuse_during_the_turn(seconds: float) -> None:  # another worker's 429 lands meanwhile
        second_turn.append(seconds)
        pacer.release(first, 429, retry_after=1e9)
        time.now += seconds

    pacer._sleep = refuse_during_the_turn
    with pytest.raises(PauseTooLong):
        pacer.acquire(patience=60)
    assert second_turn and pacer.limit >= 1


def test_a_client_paced_after_a_429_still_paces_hours_later():
    """A Project in a long-lived service keeps its pacer: the pace's doublings since the last
    429 overflowed a float (OverflowError on every request) once about 35 minutes had passed."""
    time = FakeTime()
    pacer = _refused_after_two_per_second(time)
    time.now += 6 * 3600
    pacer.release(pacer.acquire(), 200)
    assert pacer.rate is not None and pacer.rate > 1000


def test_a_retry_whose_turn_in_the_pace_comes_after_the_budget_is_not_waited_for(harness):
    """Found by QA: endless 429s with a bad Retry-After ran 80-86 s where the retry budget is 60 s:
    the wait for a retry's turn in the pace (up to 10 s here, at a tenth of a request a second)
    was not counted. The request now fails with the last 429 when its turn would come too late."""
    time = FakeTime()
    client = _paced_client(
        harness,
        time,
        lambda r: error(429, "rate_limit_exceeded", **{"Retry-After": "soon"}),
        timeout=10,
        pacer_options={"budget": 0.1},
    )
    start = time.now
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    assert caught.value.status == 429 and caught.value.code == "rate_limit_exceeded"
    assert time.now - start <= 60.0  # the retry budget: max(60 s, 2 x timeout)
    assert len(harness.requests) >= 5  # it did retry while turns came within the budget


def test_a_retry_after_longer_than_the_budget_says_so_for_the_very_request_it_answered(harness):
    """README: such a pause fails every request at once with "the API asked every request to wait
    ...". The request the 429 answered failed with the bare 429 instead (only those asking after
    it said why), so a one-request command never said it."""
    time = FakeTime()
    client = _paced_client(harness, time, lambda r: error(429, "rate_limit_exceeded", **{"Retry-After": "3600"}))
    start = time.now
    with pytest.raises(TransientError) as caught:
        client.get("/v0/pods")
    assert caught.value.status == 429
    assert "the API asked every request to wait 3600s (Retry-After), longer than the 60s retry budget" in str(
        caught.value
    )
    assert len(harness.requests) == 1 and time.now - start < 1.0  # the fake clock: nothing slept through


def test_a_first_attempt_waits_for_its_turn_however_far_and_a_retry_only_within_its_patience():
    time = FakeTime()
    pacer = Pacer(fixed=8, clock=time.clock, sleep=time.sleep, budget=0.1)
    for _ in range(3):
        pacer.acquire(turn_patience=float("inf"))  # queued: turns 10 s apart
    with pytest.raises(PauseTooLong) as caught:
        pacer.acquire(turn_patience=5.0)
    assert caught.value.turn and caught.value.seconds > 5.0
    assert pacer._in_flight == 3  # its slot was given back


def test_a_retry_whose_learnt_turn_comes_too_late_gives_its_slot_back():
    """Paced by what the API accepted: a retry's turn behind three queued ones is too far for its
    patience. It fails at once, and the slot it took for that turn is free again."""
    time = FakeTime()
    pacer = _refused_after_two_per_second(time)
    time.now += 1.0  # the pause is over: about 1.8 requests a second
    pacer._sleep = lambda seconds: None  # the three below claim their turns at the same instant
    for _ in range(3):
        pacer.acquire()
    with pytest.raises(PauseTooLong) as caught:
        pacer.acquire(turn_patience=0.5)  # its turn: about 1.6 s away
    assert caught.value.turn and caught.value.seconds > 0.5
    assert pacer._in_flight == 3


def test_an_acquire_at_the_in_flight_limit_waits_for_a_release():
    pacer = Pacer(fixed=2)  # the real clock: a third worker blocks until a slot frees
    held = [pacer.acquire(), pacer.acquire()]
    third = threading.Event()
    worker = threading.Thread(target=lambda: (pacer.acquire(), third.set()), daemon=True)
    worker.start()
    assert not third.wait(0.3)
    pacer.release(held[0], 200)
    assert third.wait(10)
    worker.join(10)


@pytest.mark.parametrize("options", [{"fixed": 0}, {"maximum": 0}, {"fixed": -1}])
def test_a_parallelism_under_one_is_refused(options):
    with pytest.raises(ValueError, match="at least 1"):
        Pacer(**options)


def test_paced_429s_do_not_use_up_the_retries_a_later_5xx_has(harness):
    """Three 429s (the pacer's business: paused, sent again), then a 503: the 503 still gets the
    retries max_retries allows, as it would have without the 429s before it."""
    time = FakeTime()
    answers = [error(429, "rate_limit_exceeded", **{"Retry-After": "1"})] * 3
    answers += [error(503, "unavailable"), httpx.Response(200, json={"ok": 1})]
    client = _paced_client(harness, time, replies(*answers), max_retries=2, pacer_options={"fixed": 4})
    assert client.get("/v0/pods") == {"ok": 1}
    assert len(harness.requests) == 5


def test_a_request_starting_during_a_pause_longer_than_its_budget_fails_unsent(harness):
    """One request was told to wait a day (Retry-After): the next one is not sent past the pause;
    it fails at once, saying why, without a request."""
    time = FakeTime()
    client = _paced_client(
        harness,
        time,
        replies(error(429, "rate_limit_exceeded", **{"Retry-After": "86400"})),
        pacer_options={"fixed": 4},
    )
    with pytest.raises(TransientError):
        client.get("/v0/pods")
    with pytest.raises(TransientError) as caught:
        client.get("/v0/domains")
    assert caught.value.status == 429 and caught.value.code == "rate_limited"
    assert "wait 86400s" in str(caught.value)
    assert len(harness.requests) == 1 and time.sleeps == []


def test_a_transport_error_under_a_pacer_is_retried_and_frees_its_slot(harness, caplog):
    time = FakeTime()
    refused = httpx.ConnectError("connection refused")
    client = _paced_client(
        harness, time, replies(refused, httpx.Response(200, json={"ok": 1})), pacer_options={"fixed": 1}
    )
    with caplog.at_level(logging.INFO, logger="mailctl.api.client"):
        assert client.get("/v0/pods") == {"ok": 1}
    assert "retrying GET /v0/pods after ConnectError (retry 1 of 6" in caplog.text
    assert client.pacer is not None and client.pacer._in_flight == 0
