"""Adaptive concurrency and pacing for one client, shared by all its worker threads.

Every request attempt takes a slot from the :class:`Pacer` (``acquire``) and gives it back with
what happened (``release``). The pacer keeps three things, all shared:

- **A concurrency limit.** ``auto`` starts at :data:`START` requests in flight and grows by one
  per success (slow start), then by about one per round of requests, while latency stays flat
  (at most :data:`FLAT` times the lowest seen) and nothing is refused, up to ``maximum``. A 429
  halves it. ``fixed`` (``--parallelism N``) keeps it at N.
- **One shared pause.** A 429's ``Retry-After`` pauses *every* worker until it has passed, rather
  than each retrying on its own (which would spend the budget the pause refills). A request whose
  turn came during the pause takes a new turn after it, at the new pace (not all at once).
- **A pace.** Before any 429, requests start at :data:`START_RATE` per second, doubling every
  :data:`RAMP` s (so shards sharing an organisation limit meet their first 429 with few requests
  in flight, not dozens each). A shard (:meth:`Pacer.share`) starts at its part of
  :data:`START_RATE` (its share of the config's resources) and doubles every :data:`SHARED_RAMP`
  s: N shards start together at START_RATE between them, and meet the limit with half the
  refusals. After a 429 requests start at most ``rate`` per second: the rate
  the API accepted over the last :data:`WINDOW` s outside pauses, times :data:`DECREASE`. The
  rate then climbs back on a cubic curve: quickly at first, flat near the rate that was refused
  (so refusals stay rare), then faster again to find new room (another shard of the organisation
  may have finished): :data:`PROBE` s past the plateau it doubles at least every :data:`DOUBLING` s.

A known budget (:class:`~mailctl.api.budget.Budget`, from ``--rate-limit``): the pacer spends it
like the API's own token bucket from the first request, and needs no 429 to learn it: no start
ramp, no probing. A shard spends its part (:meth:`Pacer.share`), and since each part is its share
of the work, shards of alike tenants finish together; a shard whose siblings finished first takes
up their parts once told (:meth:`Pacer.sibling_ended`, from ``mailctl.api.siblings``). Turns in a
known budget are claimed at most :data:`HORIZON` s ahead, so a grown part speeds up the requests
already waiting, not only those after them. A 429 anyway (someone else spends the budget
too) is handled as above, the budget still capping the pace.

Only the first 429 of a burst lowers the limit and the rate, and sets the pause: requests already
in flight when it came (an older ``epoch``) were sent at the old pace, and their refusals say
nothing new, nor stretch the pause (they would have paused every worker once more per refusal).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mailctl.api.budget import Budget
from mailctl.errors import NotStarted

START = 8  # requests in flight at first: a plan's five list reads run at once
FLAT = 2.0  # latency up to this many times the lowest seen still counts as flat
DECREASE = 0.9  # after a 429: the pace is this fraction of what the API accepted
PLATEAU = 2.0  # seconds after a decrease at which the pace is back at the refused rate
PROBE = 1.0  # seconds past the plateau on the cubic alone (+1%): a limit that is still there refuses now
DOUBLING = 1.0  # ... then the pace doubles every DOUBLING s while nothing is refused
WINDOW = 2.0  # seconds of successes (outside pauses) used to measure the accepted rate
MIN_SPAN = 0.5  # ... at least this long: a measure just after a pause falls back to the whole window
START_RATE = 40.0  # requests per second at first, before any 429 ...
RAMP = 0.125  # ... doubling every RAMP s while nothing is refused, so the first 429 finds few in flight
SHARED_RAMP = 0.5  # ... or every SHARED_RAMP s for a client that shares the budget (see share)
RAMP_DOUBLINGS = 12  # past START_RATE x 2**12 (164k/s) the ramp no longer binds
MIN_RATE = 0.2  # requests per second: never slower than one every 5 s
MAX_DOUBLINGS = 60  # of the pace after a 429: far past any budget, and still a float
DEFAULT_PAUSE = 1.0  # a 429 without a usable Retry-After pauses this long
HORIZON = 0.25  # seconds: how far ahead of its turn in a known budget a request claims it
SHARD_OVERHEAD = 7  # each shard's own reads and locks, in resources' worth of requests (see share)


class PauseTooLong(Exception):
    """The API asked every request to wait longer than the caller will (``seconds``), or (``turn``)
    the pace it allows would start this request later than that."""

    def __init__(self, seconds: float, turn: bool = False):
        super().__init__(f"{seconds:.0f}s")
        self.seconds = seconds
        self.turn = turn


@dataclass(frozen=True)
class Ticket:
    """One attempt's slot: when it was granted, and in which epoch (see the module docstring)."""

    epoch: int
    started: float
    in_flight: int = 1  # requests in flight when it was granted, itself included


class Pacer:
    def __init__(
        self,
        fixed: int | None = None,
        maximum: int = 64,
        start: int = START,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        budget: Budget | float | None = None,
    ):
        if fixed is not None and fixed < 1 or maximum < 1:
            raise ValueError("parallelism must be at least 1")
        self.fixed = fixed
        self.maximum = fixed if fixed is not None else maximum
        self._limit = float(fixed if fixed is not None else min(start, maximum))
        self._slow_start = fixed is None
        self._clock = clock
        self._sleep = sleep
        self._cond = threading.Condition()
        self._in_flight = 0
        self._paused_until = -math.inf
        self._next_start = -math.inf
        self._rate: float | None = None
        self._refused_rate = 0.0  # the pace (or measured rate) when the last 429 came
        self._decreased_at = -math.inf
        self._epoch = 0
        self._baseline: float | None = None  # lowest latency seen
        self._latency: float | None = None  # moving average
        self._successes: deque[float] = deque()
        self._started: float | None = None  # the first acquire: the ramp starts there
        self._resumed = -math.inf  # when the last pause ended (what it held back is not a measure)
        self.refusals = 0
        self._share = 1.0  # this client's part of the work of all clients sharing its budget
        self._works: list[float] = []  # ... what ``share`` was told: every client's work,
        self._own = -1  # ... which of them this one is,
        self._ended: set[int] = set()  # ... and which have ended since (``sibling_ended``)
        # What all clients sharing it may spend (None: unknown, learnt from 429s).
        self.budget = Budget(budget) if isinstance(budget, int | float) else budget

    def share(self, works: Sequence[float], own: int) -> None:
        """This client is ``works[own]`` of the work of several clients started together against one
        budget (shards of one config, ``works`` in resources). Its part counts its reads and lock
        too (:data:`SHARD_OVERHEAD`, the same for every shard whatever its size). Without a known
        budget, its start ramp is that part of the one the budget would see from a single client,
        and after the first 429 what the API accepts rules; with one, it spends that part of it."""
        with self._cond:
            if len(works) > 1 and 0 <= own < len(works):
                self._works, self._own, self._ended = list(works), own, set()
                self._share = self._part()

    def sibling_ended(self, index: int) -> bool:
        """Client ``index`` of those :meth:`share` named (a shard, K - 1) has ended: its part of the
        budget is the others' now, this one taking its own share of it. False: nothing changed."""
        with self._cond:
            if index == self._own or index in self._ended or not 0 <= index < len(self._works):
                return False
            self._ended.add(index)
            self._share = self._part()
            return True

    def _part(self) -> float:
        running = [work + SHARD_OVERHEAD for i, work in enumerate(self._works) if i not in self._ended]
        return (self._works[self._own] + SHARD_OVERHEAD) / sum(running)

    # -- what progress lines show -----------------------------------------------------------

    @property
    def limit(self) -> int:
        with self._cond:
            return int(self._limit)

    @property
    def rate(self) -> float | None:
        """The current pace in requests per second (None: not paced, no 429 yet)."""
        with self._cond:
            rate = self._current_rate(self._clock())
            part = None if self.budget is None else self.budget.part(self._share)
            return part if rate is None else rate if part is None else min(rate, part)

    def pause_left(self) -> float:
        with self._cond:
            return max(0.0, self._paused_until - self._clock())

    # -- the two calls around every attempt ---------------------------------------------------

    def acquire(
        self,
        patience: float = math.inf,
        turn_patience: float = math.inf,
        first: bool = False,
        abandon: threading.Event | None = None,
    ) -> Ticket:
        """Wait for a slot, the end of any shared pause and this request's turn in the pace.
        A pause longer than ``patience`` seconds (the caller's retry budget left) is not waited
        out: PauseTooLong at once (a server may ask for a Retry-After of years). Nor is a turn
        further than ``turn_patience`` (a retry's budget left: a first attempt queues freely).
        ``first``: claim the turn at once, ahead of the requests waiting to claim theirs (which
        wait until it is :data:`HORIZON` s away: see :meth:`_too_early`). ``abandon``: once it is
        set, the wait ends and nothing is sent (NotStarted; the turn claimed, if any, stays spent)."""
        latest = self._clock() + turn_patience  # the latest start the caller will wait for
        while True:
            _check(abandon)
            with self._cond:
                now = self._clock()
                wait = self._paused_until - now
                if wait > patience:
                    raise PauseTooLong(wait)
                if wait <= 0 and self._in_flight >= int(self._limit):
                    self._cond.wait(0.05)  # a slot frees on release (notify) or the limit grows
                    continue
                if wait <= 0 and (early := self._too_early(now, first)) > 0:
                    if now + early + HORIZON > latest:
                        raise PauseTooLong(early + HORIZON, turn=True)
                    wait = early  # no turn claimed yet: one claimed after a share change is at the new pace
                elif wait <= 0:
                    self._started = now if self._started is None else self._started
                    self._in_flight += 1
                    in_flight = self._in_flight
                    turn = self._claim_turn(now)
                    break
            self._wait(wait, abandon)
        while True:
            if self._clock() + turn > latest:
                self._give_back()
                raise PauseTooLong(turn, turn=True)
            if turn > 0:
                self._wait(turn, abandon)
            if abandon is not None and abandon.is_set():
                self._give_back()
                _check(abandon)
            with self._cond:
                now = self._clock()
                left = self._paused_until - now
                if left <= 0:
                    return Ticket(self._epoch, now, in_flight)
                if left > patience:
                    self._in_flight -= 1  # the slot taken above is given back: no request is sent
                    self._cond.notify()
                    raise PauseTooLong(left)
            # A 429 came while we waited for our turn: wait it out, then take a new turn at the new
            # pace. Sending when the pause ends would send every waiting request at once, into an
            # organisation budget the other clients kept spending: refused again, paused again.
            self._wait(left, abandon)
            with self._cond:
                turn = self._claim_turn(self._clock())

    def _too_early(self, now: float, first: bool) -> float:
        """Seconds until the budget's next turn is HORIZON away (0: claim it now). Without this,
        every slot of the in-flight limit holds a turn claimed seconds ahead at the part then
        current, and a part grown since (``sibling_ended``) is spent only once those have passed."""
        if self.budget is None or self._rate is not None or first:
            return 0.0  # unpaced, paced by what the API accepted (learnt from a 429), or first in line
        return self.budget.ahead(now, self._share) - HORIZON

    def _wait(self, seconds: float, abandon: threading.Event | None) -> None:
        """Sleep ``seconds``, or until ``abandon`` is set."""
        if abandon is None:
            self._sleep(seconds)
        else:
            abandon.wait(seconds)

    def _give_back(self) -> None:
        """The slot taken for a request that is not sent (its turn in the pace stays spent)."""
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()

    def release(self, ticket: Ticket, status: int | None, retry_after: float | None = None) -> None:
        """``status``: the HTTP status (None: no answer). ``retry_after``: seconds, from a 429."""
        with self._cond:
            self._in_flight -= 1
            self._cond.notify()
            now = self._clock()
            if status == 429:
                self._refused(ticket, now, retry_after)
            elif status is not None and status < 500:
                self._succeeded(now, now - ticket.started, ticket.in_flight)

    # -----------------------------------------------------------------------------------------

    def _claim_turn(self, now: float) -> float:
        start = now
        if self._current_rate(now) is not None:
            start = max(now, self._next_start)
            # The gap after a turn is the pace at that turn, not at the claim: turns claimed
            # together early in the ramp (or just after a 429) would otherwise hold every later
            # request to the slow pace they were claimed at, long after the pace has grown.
            rate = self._current_rate(start)
            if rate is not None:
                self._next_start = start + 1.0 / rate
        if self.budget is not None:
            start = self.budget.turn(start, self._share)
        return start - now

    def _current_rate(self, now: float) -> float | None:
        if self.budget is not None and self._rate is None:
            return None  # the budget paces, from the first request
        return self._learnt_rate(now)

    def _learnt_rate(self, now: float) -> float | None:
        if self._rate is None:
            return self._ramp(now)
        # Cubic: DECREASE x refused at the decrease, the refused rate after PLATEAU s, then faster:
        # PROBE s past the plateau the pace also doubles every DOUBLING s, so a client left alone
        # (the other shards done) reaches the whole budget in seconds, not tens of seconds. The
        # PROBE second just past the refused rate is where a limit still in place refuses, once,
        # instead of after a doubling (which cost a burst of refusals every 2-3 s per shard).
        elapsed = now - self._decreased_at
        scale = (1.0 - DECREASE) / PLATEAU**3
        factor = 1.0 + scale * (elapsed - PLATEAU) ** 3
        if elapsed > PLATEAU + PROBE:  # doublings capped: hours after a 429, 2 ** n overflows a float
            factor = max(factor, 2.0 ** min(MAX_DOUBLINGS, (elapsed - PLATEAU - PROBE) / DOUBLING))
        return max(MIN_RATE, self._refused_rate * factor)

    def _ramp(self, now: float) -> float | None:
        """The pace before any 429: START_RATE, doubling every RAMP s (None: no longer binding).

        Without it the in-flight limit doubles every round trip (50 ms), so the first 429 of an
        organisation limit shared by several clients found each with dozens in flight: all refused."""
        ramp = RAMP if self._share == 1.0 else SHARED_RAMP
        doublings = (now - (now if self._started is None else self._started)) / ramp
        return START_RATE * self._share * 2.0**doublings if doublings < RAMP_DOUBLINGS else None

    def _measured(self, now: float) -> float:
        """Successes per second over the last WINDOW s, leaving out a pause that ended within it."""
        since = max(now - WINDOW, now if self._started is None else self._started)
        if now - max(since, self._resumed) >= MIN_SPAN:
            since = max(since, self._resumed)
        span = max(now - since, MIN_SPAN)
        return sum(1 for t in self._successes if t > since) / span

    def _succeeded(self, now: float, latency: float, in_flight: int) -> None:
        self._successes.append(now)
        while self._successes and self._successes[0] < now - WINDOW:
            self._successes.popleft()
        self._baseline = latency if self._baseline is None else min(self._baseline, latency)
        self._latency = latency if self._latency is None else 0.8 * self._latency + 0.2 * latency
        if self.fixed is not None or self._limit >= self.maximum:
            return
        if self._latency > FLAT * max(self._baseline, 0.001):
            self._slow_start = False  # the server queues: stop growing
            return
        if 2 * in_flight >= self._limit:  # only a limit in use proves there is room
            self._limit = min(float(self.maximum), self._limit + (1.0 if self._slow_start else 1.0 / self._limit))

    def _refused(self, ticket: Ticket, now: float, retry_after: float | None) -> None:
        self.refusals += 1
        pause = DEFAULT_PAUSE if retry_after is None else retry_after
        late = ticket.epoch != self._epoch  # sent before the last decrease: already accounted for
        if late and self._paused_until > now:
            return  # the burst's pause is running: its own refusals do not stretch it
        self._resumed = max(self._resumed, min(self._paused_until, now))  # the pause that ended last
        self._paused_until = max(self._paused_until, now + pause)
        self._next_start = max(self._next_start, self._paused_until)
        if late:
            return
        self._epoch += 1
        self._slow_start = False
        if self.fixed is None:
            self._limit = max(1.0, self._limit / 2)
        measured = self._measured(now)
        current = self._current_rate(now)
        refused = measured if current is None else min(current, max(measured, MIN_RATE))
        self._refused_rate = max(MIN_RATE, refused)
        self._rate = self._refused_rate
        self._decreased_at = now


def _check(abandon: threading.Event | None) -> None:
    if abandon is not None and abandon.is_set():
        raise NotStarted
