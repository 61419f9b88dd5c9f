"""The pacer where several clients share one organisation rate limit (issue 19 point 4), on a fake
clock: few requests in flight when the first 429 comes, one pause per burst, the accepted rate
measured outside pauses."""

from __future__ import annotations

import itertools

import pytest
from test_pacing import FakeTime

from mailctl.api.pacing import DECREASE, RAMP, RAMP_DOUBLINGS, START_RATE, Pacer


def _fresh() -> tuple[FakeTime, Pacer]:
    time = FakeTime()
    return time, Pacer(clock=time.clock, sleep=time.sleep)


def test_before_any_429_requests_start_at_a_ramp_not_all_at_once():
    time, pacer = _fresh()
    starts = [pacer.acquire().started for _ in range(4)]  # none released: all in flight
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert starts[-1] - starts[0] < RAMP  # within the first doubling: between 1x and 2x START_RATE
    assert all(1 / (2 * START_RATE) <= gap <= 1 / START_RATE + 1e-9 for gap in gaps)


def test_the_ramp_doubles_every_ramp_seconds_then_stops_binding():
    time, pacer = _fresh()
    pacer.release(pacer.acquire(), 200)
    time.now += 2 * RAMP
    assert pacer.rate == pytest.approx(4 * START_RATE, rel=0.05)
    time.now += RAMP * RAMP_DOUBLINGS
    assert pacer.rate is None  # unpaced: only the in-flight limit and 429s bound it now


def test_refusals_of_requests_sent_before_the_first_429_do_not_stretch_its_pause():
    time, pacer = _fresh()
    burst = [pacer.acquire() for _ in range(5)]
    pacer.release(burst[0], 429, retry_after=1.0)
    for ticket in burst[1:]:  # the rest of the burst, refused moments later
        time.now += 0.1
        pacer.release(ticket, 429, retry_after=1.0)
    assert pacer.pause_left() == pytest.approx(1.0 - 0.4)
    assert pacer.refusals == 5


def test_a_late_refusal_after_the_pause_ended_pauses_again():
    time, pacer = _fresh()
    early, slow = pacer.acquire(), pacer.acquire()
    pacer.release(early, 429, retry_after=1.0)
    time.now += 1.5
    pacer.release(slow, 429, retry_after=1.0)  # the bucket is empty again: wait once more
    assert pacer.pause_left() == pytest.approx(1.0)


def test_the_rate_measured_at_a_429_leaves_out_the_pause_before_it():
    """5 per second, refused, paused a second, 5 per second again, refused: the second decrease
    starts from what was accepted since the pause, not from an average diluted by the pause
    (which would halve the client's share at every 429)."""
    time, pacer = _fresh()

    def five_per_second(seconds: float) -> None:
        for _ in range(int(seconds * 5)):
            ticket = pacer.acquire()
            time.now = max(time.now, ticket.started) + 0.2
            pacer.release(ticket, 200)

    five_per_second(2.0)
    pacer.release(pacer.acquire(), 429, retry_after=1.0)
    first = pacer.rate
    assert first == pytest.approx(5.0 * DECREASE, rel=0.1)
    time.now += 1.0  # the pause
    five_per_second(1.0)
    pacer.release(pacer.acquire(), 429, retry_after=1.0)
    assert pacer.rate is not None and pacer.rate >= 0.8 * first  # diluted by the pause: about 0.5x


def test_a_request_whose_turn_came_during_a_pause_takes_a_new_turn_after_it():
    """A 429 comes while a request waits for its turn: it waits out the pause and takes a new
    turn at the new pace, so it goes as a request of the current epoch (its refusal is news, not
    a late echo of the first 429), instead of leaving with every other waiting request the moment
    the pause ends, into a budget the other shards kept spending."""
    time, pacer = _fresh()
    for _ in range(10):  # 2 per second, then refused: paced at 0.9 x 2/s
        ticket = pacer.acquire()
        time.now += 0.5
        pacer.release(ticket, 200)
    pacer.release(pacer.acquire(), 429, retry_after=1.0)
    time.now += 1.0
    first = pacer.acquire()  # the pause is over: it goes now; the next one waits for its turn
    refused = {"done": False}
    plain_sleep = time.sleep

    def sleep(seconds: float) -> None:
        if not refused["done"]:  # while the second request waits for its turn: the first is refused
            refused["done"] = True
            pacer.release(first, 429, retry_after=1.0)
        plain_sleep(seconds)

    pacer._sleep = sleep
    pause_end = time.now + 1.0
    second = pacer.acquire()
    assert second.epoch == first.epoch + 1  # sent after the second decrease
    assert second.started >= pause_end
