"""A known budget (``--rate-limit``): the pacer spends it like the API's own token bucket, from the
first request (no ramp, no 429 to learn it), and shards of one config each spend their part, so
that together they are never refused by the sandbox's bucket, yet use nearly all of it."""

from __future__ import annotations

import itertools
import threading
from types import SimpleNamespace

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from test_pacing import FakeTime

from mailctl.api.budget import JITTER, Budget
from mailctl.api.pacing import HORIZON, SHARD_OVERHEAD, Pacer
from mailctl.sandbox import knobs


def _budgeted(budget: float, works: list[float] | None = None, own: int = 0) -> tuple[FakeTime, Pacer]:
    time = FakeTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep, budget=budget)
    if works is not None:
        pacer.share(works, own)
    return time, pacer


def _send_times(pacer: Pacer, time: FakeTime, count: int) -> list[float]:
    """When ``count`` requests, each answered at once, are let through (as offsets from the first)."""
    start = time.now
    times = []
    for _ in range(count):
        ticket = pacer.acquire()
        times.append(ticket.started - start)
        pacer.release(ticket, 200)
    return times


def test_a_known_budget_paces_from_the_first_request_bursting_all_but_a_jitter_margin():
    time, pacer = _budgeted(20.0)
    assert pacer.rate == pytest.approx(20.0)  # no ramp: the pace is the budget before any 429
    times = _send_times(pacer, time, 60)
    held = 20.0 * JITTER  # of a bucket of 20: what 20/s refills in JITTER s, for arrival jitter
    assert times[: int(20 - held)] == [0.0] * int(20 - held)
    assert times[int(20 - held)] == pytest.approx(1 / 20)
    gaps = [b - a for a, b in itertools.pairwise(times[int(20 - held) :])]
    assert gaps == pytest.approx([1 / 20] * len(gaps))


def test_requests_arriving_up_to_the_jitter_margin_closer_than_sent_are_not_refused(monkeypatch):
    """The worst case: the API's bucket full, and everything sent in the first 0.2 s arrives at
    0.2 s at once (the burst the latest): the sandbox's bucket still refuses none of it."""
    time, pacer = _budgeted(20.0)
    sent = _send_times(pacer, time, 200)
    arrivals = [max(t, 0.2) for t in sent]
    assert _bucket_refusals(monkeypatch, 20.0, arrivals) == 0


def test_without_a_budget_the_first_requests_are_not_held_to_one():
    time = FakeTime()
    pacer = Pacer(clock=time.clock, sleep=time.sleep)
    assert pacer.budget is None
    assert _send_times(pacer, time, 30)[-1] < 30 / 10.0 - 0.1 - 1.0  # faster than a budget of 10 would let


def test_a_shard_spends_its_part_of_the_budget():
    time, pacer = _budgeted(20.0, [10.0, 30.0], 1)  # with the reads every shard makes: 37 of 54
    part = 20.0 * 37 / 54
    assert pacer.rate == pytest.approx(part)
    times = _send_times(pacer, time, 60)
    burst = sum(1 for t in times if t == 0.0)
    assert burst == int((20.0 - 20.0 * JITTER) * 37 / 54)  # its part of the bucket
    gaps = [b - a for a, b in itertools.pairwise(times[burst:])]
    assert gaps == pytest.approx([1 / part] * len(gaps))


@pytest.mark.parametrize("per_second", [0.0, -1.0, 0.09, 5e-324, float("nan"), float("inf"), 2e6])
def test_a_budget_is_a_tenth_to_a_million_requests_a_second(per_second):
    with pytest.raises(ValueError, match="requests per second"):
        Pacer(budget=per_second)


def _bucket_refusals(monkeypatch: pytest.MonkeyPatch, rate: float, arrivals: list[float]) -> int:
    """How many of ``arrivals`` the sandbox's own token bucket refuses."""
    now = SimpleNamespace(value=0.0)
    monkeypatch.setattr(knobs, "time", SimpleNamespace(monotonic=lambda: now.value))
    limiter = knobs.RateLimiter()
    refused = 0
    for arrival in sorted(arrivals):
        now.value = arrival
        refused += limiter.acquire("org", rate) is not None
    return refused


@settings(max_examples=60, deadline=None)
@given(
    budget=st.sampled_from([3.0, 10.0, 20.0, 30.0, 97.5]),
    works=st.lists(st.integers(0, 400), min_size=2, max_size=4),
    delays=st.lists(st.floats(0.0, 3.0), min_size=6, max_size=6),
)
def test_shards_spending_their_parts_are_never_refused_and_use_the_budget(budget, works, delays):
    """Shards started at any moments, each sending as fast as its pacer lets it: the
    sandbox's bucket refuses none of them, and for 20 s once all run they take at least 97% of the budget.
    (A part of the bucket under one request cannot be kept: such shards may collide.)"""
    parts = [(w + SHARD_OVERHEAD) / (sum(works) + SHARD_OVERHEAD * len(works)) for w in works]
    held = max(1.0, budget * JITTER)
    assume(all((max(1.0, budget) - held) * part >= 1.0 for part in parts))
    monkeypatch = pytest.MonkeyPatch()
    try:
        arrivals: list[float] = []
        horizon, late = 20.0, max(delays[: len(works)])
        for own in range(len(works)):
            time, pacer = _budgeted(budget, [float(w) for w in works], own)
            time.now = delays[own]
            while time.now < late + horizon:
                ticket = pacer.acquire()
                arrivals.append(ticket.started)
                pacer.release(ticket, 200)
        assert _bucket_refusals(monkeypatch, budget, arrivals) == 0
        spent = sum(1 for t in arrivals if late + 1.0 <= t < late + horizon - 1.0)
        assert spent >= 0.97 * budget * (horizon - 2.0) - len(works)
    finally:
        monkeypatch.undo()


def test_requests_made_before_the_shard_knew_its_part_still_count_against_it():
    """plan --shard starts its reads before the config (and so its part) is known: what they spent
    is spent, and the part's bucket, a quarter of the budget's, waits for it to refill."""
    time, pacer = _budgeted(20.0)
    _send_times(pacer, time, 5)  # at once: the whole budget's bucket
    pacer.share([1.0, 1.0, 1.0, 1.0], 0)  # a quarter: 5/s, a bucket of 15 / 4 = 3.75
    start = time.now
    ticket = pacer.acquire()
    assert ticket.started - start == pytest.approx((5 - 3.75 + 1) / 5)


@pytest.mark.parametrize("budget", [0.1, 0.5, 0.8, 1.0, 1.2, 1.5, 2.0, 3.0, 4.5])
def test_a_budget_of_about_one_request_a_second_keeps_its_jitter_margin_too(monkeypatch, budget):
    """The API's bucket holds one request when the limit is 1/s or less: nothing can be held back
    in it, so requests are spaced JITTER further apart instead; every other one arriving 0.2 s late
    (the next on time, 0.2 s closer than sent) is still never refused."""
    time, pacer = _budgeted(budget)
    sent = _send_times(pacer, time, 30)
    assert sent[0] == 0.0  # the bucket is full at first: the first request goes at once
    arrivals = [t + (0.2 if k % 2 == 0 else 0.0) for k, t in enumerate(sent)]
    assert _bucket_refusals(monkeypatch, budget, arrivals) == 0
    assert 30 / (sent[-1] + 1 / budget) >= budget / (1 + JITTER * budget) - 1e-9  # no slower than that


def test_a_request_waiting_for_a_turn_far_ahead_claims_it_only_when_near_so_a_grown_part_speeds_it():
    """Four shards' parts, the bucket spent seconds ahead; while the request waits, the other three
    shards end (SiblingWatch): its turn is claimed after the wait, at the whole budget's pace. A
    turn claimed before waiting would hold the quarter pace (and every worker's slot with it)."""
    time, pacer = _budgeted(20.0, [1.0] * 4, 0)
    assert pacer.budget is not None
    for _ in range(40):  # requests of this shard already promised a turn: seconds of its 5/s part
        pacer.budget.turn(time.now, pacer._share)
    ahead = pacer.budget.ahead(time.now, pacer._share)
    assert ahead > 4.0
    seen: list[float] = []
    plain_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if not seen:  # the first wait: nothing claimed yet, and then the other shards end
            seen.append(pacer.budget.ahead(time.now, pacer._share))  # type: ignore[union-attr]
            for sibling in (1, 2, 3):
                pacer.sibling_ended(sibling)
        plain_sleep(seconds)

    pacer._sleep = sleep  # the pacer's own, as a worker thread would sleep
    start = time.now
    ticket = pacer.acquire()
    assert seen == [pytest.approx(ahead)]  # the wait came before the turn was claimed
    assert time.sleeps[0] == pytest.approx(ahead - HORIZON)
    assert ticket.started - start < ahead  # its turn, claimed near, at the grown part


def test_a_request_first_in_line_claims_its_turn_at_once():
    time, pacer = _budgeted(20.0, [1.0] * 4, 0)
    assert pacer.budget is not None
    for _ in range(40):
        pacer.budget.turn(time.now, pacer._share)
    ahead = pacer.budget.ahead(time.now, pacer._share)
    ticket = pacer.acquire(first=True)
    assert len(time.sleeps) == 1 and ticket.started - 100.0 == pytest.approx(ahead)  # one wait: its turn
    pacer.release(ticket, 200)
    for _ in range(40):
        pacer.budget.turn(time.now, pacer._share)
    ahead = pacer.budget.ahead(time.now, pacer._share)
    pacer.acquire()  # not first: waits until the turn is near, then for the turn
    assert time.sleeps[1:] == [pytest.approx(ahead - HORIZON), pytest.approx(HORIZON)]


def test_first_in_line_puts_a_request_ahead_of_the_workers_waiting_for_their_turns():
    """Real threads: eight workers queue at 5 requests/s; a request made first in line while they
    wait starts among the next few, not after all of them (the order, not the time, is checked)."""
    pacer = Pacer(budget=20.0)
    pacer.share([1.0] * 4, 0)
    order: list[str] = []
    lock = threading.Lock()

    def request(name: str, first: bool) -> None:
        ticket = pacer.acquire(first=first)
        with lock:
            order.append(name)
        pacer.release(ticket, 200)

    for _ in range(4):  # the part's bucket spent: every request after these waits its turn
        request("warm-up", False)
    order.clear()
    workers = [threading.Thread(target=request, args=(f"worker-{i}", False)) for i in range(8)]
    for worker in workers:
        worker.start()
    while len(order) < 1:  # the queue is moving
        threading.Event().wait(0.01)
    watch = threading.Thread(target=request, args=("watch", True))
    watch.start()
    for thread in [*workers, watch]:
        thread.join()
    assert order.index("watch") <= 3, order


def _spent(per_second: float, share: float, turns: int) -> Budget:
    """A budget a client spending ``share`` of it has already promised ``turns`` turns from, at 0."""
    budget = Budget(per_second)
    for _ in range(turns):
        budget.turn(0.0, share)
    return budget


def test_ahead_says_when_turn_would_start_also_after_the_part_grew():
    """``ahead`` (the pacer's "is my turn near?") and ``turn`` agree, whatever the part became."""
    budget = _spent(20.0, 0.25, 40)
    for share in (0.25, 0.5, 1.0):
        predicted = budget.ahead(1.0, share)
        assert budget.turn(1.0, share) - 1.0 == pytest.approx(predicted)


def test_a_grown_part_gives_the_turns_still_missing_at_its_new_pace():
    """Seconds of a quarter's turns promised, then the part doubles (a sibling ended): the next turn
    comes sooner than half the quarter's wait (the half's bucket is deeper too), not where the
    quarter's bucket would have it."""
    quarter = _spent(20.0, 0.25, 40).turn(0.0, 0.25)
    half = _spent(20.0, 0.25, 40).turn(0.0, 0.5)
    assert quarter > 5.0
    assert 0.0 < half < quarter / 2


def test_a_part_under_one_request_waits_for_its_first():
    """A quarter of 1/s: the API's bucket (one request) is not a quarter's to spend at once."""
    assert Budget(1.0).turn(0.0, 0.25) == pytest.approx(1 / 0.25 + JITTER)
    assert Budget(1.0).turn(0.0, 1.0) == 0.0  # alone, the full bucket's one request goes at once
