"""A known rate budget (``--rate-limit``): the requests per second the organisation allows, which
the API itself does not tell (a 429 with ``Retry-After`` is all it says).

It is spent like the API's own token bucket, as GCRA: ``per_second`` requests per second and
bursts of as many, less what it refills in :data:`JITTER` seconds (at least one request): held
back, so that requests sent in time but arriving closer together than they were sent still find
the API's bucket holding a token for them. A client that shares the budget with others (the
shards of one config) spends its part of it (``share``): their buckets add up to the API's, so
together they stay within it.

The bucket is taken to be full when first used. One :class:`Budget` serves every client of one
process that spends it (the Python API's plan, then its apply), so the second does not find a
full bucket that the first has spent.
"""

from __future__ import annotations

import math
import threading

JITTER = 0.25  # seconds: how much closer together requests may arrive than they were sent
SLOWEST = 0.1  # requests per second: below it a budget is surely a mistake (a request every 10 s)
FASTEST = 1_000_000.0


class Budget:
    def __init__(self, per_second: float):
        if not SLOWEST <= per_second <= FASTEST:  # NaN too
            raise ValueError(f"a rate budget is {SLOWEST:g} to {FASTEST:,.0f} requests per second, not {per_second!r}")
        self.per_second = per_second
        self._due = -math.inf  # when the bucket is full again (GCRA's theoretical arrival time)
        self._share: float | None = None  # the share ``_due`` was reckoned in
        self._lock = threading.Lock()

    def part(self, share: float) -> float:
        """Requests per second of a client that spends ``share`` of the budget."""
        return self.per_second * share

    def ahead(self, at: float, share: float) -> float:
        """Seconds from ``at`` until :meth:`turn` would start a request of a client spending
        ``share`` (0: at once); nothing is taken."""
        interval, depth, _full = self._shape(share)
        with self._lock:
            if self._due == -math.inf:
                return 0.0
            self._take_part(at, share)
            return max(0.0, self._due - (depth - 1.0) * interval - at)

    def _take_part(self, at: float, share: float) -> None:
        """The part changed (a shard learns it once its config is read, and grows when the others
        end): the requests its bucket still misses stay missed, at the new part's pace."""
        if share != self._share and self._share is not None and self._due > at:
            self._due = at + (self._due - at) * self._share / share
        self._share = share

    def _shape(self, share: float) -> tuple[float, float, float]:
        """For a client spending ``share``: the interval between its requests, its bucket's
        depth, and what the bucket holds at first use (see :meth:`turn`)."""
        interval = 1.0 / self.part(share)
        capacity = max(1.0, self.per_second) * share
        margin = max(1.0, self.per_second * JITTER) * share
        tokens = max(0.0, capacity - margin)
        depth = max(1.0, tokens)
        if depth > tokens:  # held to one request deep, the margin is what is left: too little
            interval += JITTER
        full = max(tokens, 1.0) if share == 1.0 else tokens  # alone, the API's full bucket has one
        return interval, depth, full

    def turn(self, at: float, share: float) -> float:
        """The first moment from ``at`` at which a client spending ``share`` of the budget has a
        request to spare, taken. Its bucket is ``share`` of the API's (``max(1, per_second)``)
        less what is held back, and at least one request deep. Where that leaves less than the
        margin (a limit of about one request a second, whose bucket holds one), requests are
        spaced JITTER further apart instead. A part under one request waits for its first, and
        such parts of several shards may collide (each may send at the same moment)."""
        interval, depth, full = self._shape(share)
        with self._lock:
            if self._due == -math.inf:
                self._due = at + (depth - full) * interval  # holding ``full`` at first use
            self._take_part(at, share)
            start = max(at, self._due - (depth - 1.0) * interval)
            self._due = max(self._due, start) + interval
            return start
