"""What the mutation sweep of ``api/pacing.py`` found no test depending on: the slot given back
when a pause outlasts the caller's patience, the workers waiting at the in-flight limit woken (not
left to poll), the new turn taken after a pause that came while waiting for one, a late 429 that
lowers nothing, and the additive growth after the queue or a 429 ended slow start.

The threaded tests use a frozen or fake clock and sleep; their waits and joins are hang guards."""

from __future__ import annotations

import threading

import pytest
from test_pacing import FakeTime, _past_the_ramp, _refused_after_two_per_second, _round

from mailctl.api.pacing import Pacer, PauseTooLong, Ticket

GUARD = 10.0  # seconds: a hang guard only, never reached unless the code is broken


class NoPoll(threading.Condition):
    """The pacer's condition without its 0.05 s poll: a worker waiting for a slot wakes only when
    notified (or after GUARD, recorded as False). Records every wait's outcome."""

    def __init__(self) -> None:
        super().__init__()
        self.woken: list[bool] = []  # True: notified; False: timed out
        self.waiting = threading.Semaphore(0)  # released each time a worker starts to wait

    def wait(self, timeout: float | None = None) -> bool:
        self.waiting.release()  # the lock is still held: a notifier runs only once we wait
        notified = super().wait(GUARD)
        self.woken.append(notified)
        return notified


def _start(target) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


# -- PauseTooLong ---------------------------------------------------------------------------------


def test_pause_too_long_says_how_long_in_whole_seconds():
    time = FakeTime()
    pacer = Pacer(fixed=1, clock=time.clock, sleep=time.sleep)
    pacer.release(pacer.acquire(), 429, retry_after=86400.4)
    with pytest.raises(PauseTooLong) as caught:
        pacer.acquire(patience=60)
    assert str(caught.value) == "86400s"


# -- slots given back and the workers waiting for them -------------------------------------------


def test_a_worker_at_the_in_flight_limit_sleeps_until_a_release_wakes_it():
    """Without the poll, a waiting worker still gets the slot a release frees: it waits on the
    condition (not a busy loop) and the release notifies it."""
    pacer = Pacer(fixed=1, clock=lambda: 100.0, sleep=lambda seconds: None)
    cond = pacer._cond = NoPoll()
    held = pacer.acquire()
    got: list[Ticket] = []
    worker = _start(lambda: got.append(pacer.acquire()))
    try:
        assert cond.waiting.acquire(timeout=GUARD)  # it waits on the condition, not spinning
    finally:
        pacer.release(held, 200)
        worker.join(GUARD)
    assert got and got[0].in_flight == 1
    assert cond.woken == [True]  # woken by the release, not by a timeout


def test_a_retry_giving_back_a_slot_for_a_turn_too_far_wakes_a_worker_waiting_for_one():
    pacer = Pacer(fixed=4, clock=lambda: 100.0, sleep=lambda seconds: None, budget=0.1)
    for _ in range(3):  # first: the frozen clock never brings a queued turn within HORIZON
        pacer.acquire(first=True)  # queued: turns 10 s apart
    cond = pacer._cond = NoPoll()
    retry_holds_the_slot, reads = threading.Event(), {"n": 0}
    retry_thread: list[threading.Thread] = []

    def clock() -> float:  # the retry's third read: after taking the slot, before giving it back
        if threading.current_thread() is retry_thread[0]:
            reads["n"] += 1
            if reads["n"] == 3:
                retry_holds_the_slot.set()
                assert cond.waiting.acquire(timeout=GUARD)  # the other worker waits for a slot
        return 100.0

    pacer._clock = clock
    refused: list[PauseTooLong] = []

    def retry() -> None:
        try:
            pacer.acquire(turn_patience=5.0, first=True)
        except PauseTooLong as exc:
            refused.append(exc)

    retry_thread.append(threading.Thread(target=retry, daemon=True))
    retry_thread[0].start()
    assert retry_holds_the_slot.wait(GUARD)
    got: list[Ticket] = []
    waiter = _start(lambda: got.append(pacer.acquire(first=True)))
    retry_thread[0].join(GUARD)
    waiter.join(GUARD)
    assert refused and refused[0].turn
    assert got and got[0].in_flight == 4  # the slot given back is the waiter's
    assert cond.woken == [True]  # woken by the give-back, not by a timeout


def test_a_pause_outlasting_the_patience_of_a_request_waiting_its_turn_frees_its_slot():
    time = FakeTime()
    pacer = _refused_after_two_per_second(time)
    time.now += 5
    first = pacer.acquire()

    def refuse_during_the_turn(seconds: float) -> None:  # another worker's 429 lands meanwhile
        pacer.release(first, 429, retry_after=1000.0)
        time.now += seconds

    pacer._sleep = refuse_during_the_turn
    with pytest.raises(PauseTooLong):
        pacer.acquire(patience=60)  # claimed a slot and a turn, then the pause came
    pacer._sleep = time.sleep
    time.now += 1000.0
    assert pacer.acquire().in_flight == 1  # nothing is in flight but this one


def test_that_slot_freed_wakes_a_worker_still_waiting_for_one():
    """Two workers wait at the limit; a 429 (Retry-After far beyond patience) frees one slot and
    wakes one; the request waiting its turn gives its slot back, and wakes the other."""
    pacer = Pacer(fixed=2, clock=lambda: 100.0, sleep=lambda seconds: None)
    cond = pacer._cond = NoPoll()
    held = pacer.acquire()
    in_turn, go = threading.Event(), threading.Event()
    outcomes: list[object] = []

    def sleep(seconds: float) -> None:  # the second request's turn (the start ramp's spacing)
        in_turn.set()
        assert go.wait(GUARD)

    def worker(patience: float) -> None:
        try:
            outcomes.append(pacer.acquire(patience=patience))
        except PauseTooLong as exc:
            outcomes.append(exc)

    pacer._sleep = sleep
    turn = _start(lambda: worker(60))
    assert in_turn.wait(GUARD)
    pacer._sleep = lambda seconds: None
    waiters = [_start(lambda: worker(60)) for _ in range(2)]
    for _ in waiters:
        assert cond.waiting.acquire(timeout=GUARD)  # both wait at the limit
    pacer.release(held, 429, retry_after=1e9)  # wakes one waiter: it gives up at once
    go.set()  # the request waiting its turn sees the pause: gives up, and gives back its slot
    for thread in (turn, *waiters):
        thread.join(GUARD)
    assert len(outcomes) == 3 and all(isinstance(o, PauseTooLong) for o in outcomes)
    assert cond.woken == [True, True]  # the second waiter woken by the slot given back


# -- a 429 while waiting for a turn ----------------------------------------------------------------


def test_a_request_whose_turn_a_pause_overtook_starts_when_it_ends_and_the_next_one_turn_later():
    time = FakeTime()
    pacer = _refused_after_two_per_second(time)
    time.now += 5
    first = pacer.acquire()
    pause_end: list[float] = []

    def refuse_during_the_turn(seconds: float) -> None:
        pacer._sleep = time.sleep
        pacer.release(first, 429, retry_after=1.0)
        pause_end.append(time.now + 1.0)
        time.now += seconds

    pacer._sleep = refuse_during_the_turn
    overtaken = pacer.acquire()
    assert overtaken.started == pytest.approx(pause_end[0])  # not its old turn's length later
    rate = pacer.rate
    following = pacer.acquire()
    assert following.started - overtaken.started == pytest.approx(1 / rate, rel=0.05)  # a new turn each


def test_a_late_429_that_starts_a_new_pause_as_one_ends_costs_the_waiting_request_no_extra_turn():
    """A request waits its turn; a 429 pauses everyone (P1); as that pause ends, a request sent
    before it is refused too and pauses everyone again, briefly (P2, sooner than a turn). The
    waiting request starts when P2 ends: the turn it claimed during the pause is not spent."""
    time = FakeTime()
    pacer = _refused_after_two_per_second(time)
    time.now += 5
    old = pacer.acquire()  # sent before the next 429: answered late
    first = pacer.acquire()
    events: list[float] = []

    def sleep(seconds: float) -> None:
        time.now += seconds
        if not events:  # during the waiting request's turn: the first 429 (P1 = 1 s)
            pacer.release(first, 429, retry_after=1.0)
            events.append(time.now + 1.0)
        elif len(events) == 1 and time.now >= events[0] - 1e-9:  # P1 over: a late 429 (P2)
            pacer.release(old, 429, retry_after=0.1)
            events.append(time.now + 0.1)

    pacer._sleep = sleep
    overtaken = pacer.acquire()
    assert len(events) == 2
    assert 1 / pacer.rate > 0.1  # P2 is shorter than one turn at the new pace
    assert overtaken.started == pytest.approx(events[1])


def test_a_late_429_after_the_pause_lowers_neither_the_limit_nor_the_pace():
    """A request sent before the last decrease, refused after its pause ended, says nothing new."""
    time = FakeTime()
    pacer = _past_the_ramp(Pacer(clock=time.clock, sleep=time.sleep), time)
    _round(pacer, time)
    old = pacer.acquire()
    pacer.release(pacer.acquire(), 429, retry_after=1.0)
    limit, rate = pacer.limit, pacer.rate
    time.now += 1.5
    pacer.release(old, 429, retry_after=1.0)
    assert pacer.limit == limit
    assert pacer.rate >= rate  # the cubic climbing back, not a second decrease


# -- growth after slow start ended ----------------------------------------------------------------


def test_once_the_server_queued_the_limit_grows_by_one_a_round_not_one_a_success():
    time = FakeTime()
    pacer = _past_the_ramp(Pacer(clock=time.clock, sleep=time.sleep), time)
    _round(pacer, time)
    _round(pacer, time, latency=1.0)  # the server queues: slow start ends
    for _ in range(3):  # flat again: the moving average back under FLAT x the lowest
        _round(pacer, time)
    before = pacer.limit
    _round(pacer, time)
    assert before <= pacer.limit <= before + 1


def test_after_a_429_the_limit_grows_by_one_a_round_not_one_a_success():
    time = FakeTime()
    pacer = _past_the_ramp(Pacer(clock=time.clock, sleep=time.sleep), time)
    _round(pacer, time)
    pacer.release(pacer.acquire(), 429, retry_after=1.0)
    time.now += 60.0  # the pace has climbed far past anything below: only the limit binds
    before = pacer.limit
    _round(pacer, time)
    assert before <= pacer.limit <= before + 1
