"""The pacer where several clients share one organisation rate limit (issue 19 point 4), on a fake
clock: few requests in flight when the first 429 comes, one pause per burst, the accepted rate
measured outside pauses; shards started together ramp up as one client (Pacer.share)."""

from __future__ import annotations

import itertools

import pytest
from test_pacing import FakeTime

from mailctl.api.pacing import DECREASE, RAMP, RAMP_DOUBLINGS, SHARD_OVERHEAD, SHARED_RAMP, START_RATE, Pacer
from mailctl.plan.shards import shard_of, works


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


def _sharing(works: list[float], own: int) -> tuple[FakeTime, Pacer]:
    time, pacer = _fresh()
    pacer.share(works, own)
    return time, pacer


def test_shards_started_together_begin_at_one_clients_start_rate_between_them():
    """Each shard starts at its part of START_RATE (its part of the config's resources, plus the
    reads and lock every shard makes), so N shards started at once meet an organisation limit at
    the pace one client would, not N times it."""
    works = [10.0, 10.0, 20.0]
    rates = []
    for own in range(len(works)):
        _, pacer = _sharing(works, own)
        pacer.release(pacer.acquire(), 200)
        rates.append(pacer.rate)
    total = 40.0 + 3 * SHARD_OVERHEAD
    parts = [(w + SHARD_OVERHEAD) / total for w in works]
    assert rates == pytest.approx([START_RATE * part for part in parts])
    assert sum(rates) == pytest.approx(START_RATE)


def test_a_shard_starts_its_requests_at_its_part_of_the_start_rate():
    time, pacer = _sharing([0.0, 2.0 * SHARD_OVERHEAD], 0)  # a quarter of the work, all of it reads
    starts = [pacer.acquire().started for _ in range(3)]  # none released: all in flight
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(1 / (2 * START_RATE / 4) <= gap <= 1 / (START_RATE / 4) + 1e-9 for gap in gaps)


def test_a_shards_ramp_doubles_every_shared_ramp_seconds():
    time, pacer = _sharing([1.0, 1.0], 1)
    pacer.release(pacer.acquire(), 200)
    time.now += 2 * SHARED_RAMP
    assert pacer.rate == pytest.approx(4 * START_RATE / 2, rel=0.05)


def test_a_single_shard_keeps_the_single_client_ramp():
    time, pacer = _sharing([7.0], 0)
    pacer.release(pacer.acquire(), 200)
    assert pacer.rate == pytest.approx(START_RATE)
    time.now += 2 * RAMP
    assert pacer.rate == pytest.approx(4 * START_RATE, rel=0.05)


def test_a_shards_work_is_the_config_resources_it_owns_organisation_level_in_shard_1():
    pods = [f"tenant-{i:03d}" for i in range(40)]
    addresses = ["domain/example.com", "webhook/org-hook"]
    for pod in pods:
        addresses += [f"pod/{pod}", f"pod/{pod}/inbox/a"]
    counts = works(addresses, 4)
    assert sum(counts) == len(addresses)
    by_hand = [0, 0, 0, 0]
    for pod in pods:
        by_hand[shard_of(pod, 4) - 1] += 2
    by_hand[0] += 2
    assert counts == by_hand


def test_a_tenant_added_to_the_config_adds_to_its_own_shards_work_only():
    """Stable: adding tenants never moves another tenant's work to another shard."""
    before = works([f"pod/t-{i}" for i in range(30)], 4)
    after = works([f"pod/t-{i}" for i in range(31)], 4)
    assert sum(1 for b, a in zip(before, after, strict=True) if b != a) == 1
    assert after[shard_of("t-30", 4) - 1] == before[shard_of("t-30", 4) - 1] + 1
