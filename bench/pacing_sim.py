"""Simulation: N shards, each a real :class:`~mailctl.api.pacing.Pacer` on a fake clock, against one
token bucket like the sandbox's (``--rate-limit R``: R per second, bursts of max(1, R)).

    .venv/bin/python bench/pacing_sim.py                  # the layouts of bench/shards.py, 24 seeds
    .venv/bin/python bench/pacing_sim.py --no-share       # pacers that do not know the others' work
    .venv/bin/python bench/pacing_sim.py --trace 8,10,20,10   # every 0.5 s: accepted, 429s, pace per shard
    .venv/bin/python bench/pacing_sim.py --oracle         # what is left once the first contact is paid
    .venv/bin/python bench/pacing_sim.py --stagger 1      # shards start up to 1 s apart, as processes do

It answers in a second what bench/shards.py answers in minutes (and reproduces its 429 share), so
a change to the pacer's rules can be weighed before it is measured for real. Each shard has a
number of requests to get accepted and 64 workers; a request takes its turn from the pacer the way
``Pacer.acquire`` does (the shared pause, the pace, a new turn after a pause), travels with a
latency of 50-65 ms, is answered 200 or 429 (``Retry-After``: whole seconds, as the sandbox
says), and a refused request goes again. Start-up, plans and locks are not modelled, so the real
ratio is a few percent higher. It reads the pacer's private state (this file is a bench, not an
API): keep it in step with pacing.py.

``--oracle`` bounds what a better learnt pacer could reach: each shard learns the limit as today
until its first 429, and from then on is simply told it (``Pacer.budget``, as ``--rate-limit``
does) and told at once when a sibling ends. Measured (24 seeds): the shards' layouts 0.5-1.4%
429s (5.6-7.2 refusals, nearly all at the first contact) at 1.00-1.02x, alone 1.9% (its start
ramp doubles 4x as fast, so its first contact costs 11). So the first contact leaves room under
2%: what is missing after it is each shard's estimate of its part of the limit, and the news of a
sibling's end.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from mailctl.api.budget import Budget
from mailctl.api.pacing import Pacer, Ticket

LAYOUTS = {  # requests each shard needs accepted, as bench/shards.py's runs make them
    "hash": ([255, 290, 290, 320], 20.0),
    "8,10,20,10": ([86, 107, 214, 107], 20.0),
    "8,10,20,10@30": ([86, 107, 214, 107], 30.0),
    "alone": ([600], 20.0),
}


@dataclass
class _World:
    rate: float
    now: float = 0.0
    tokens: float = 0.0
    refilled: float = 0.0
    events: list[tuple[float, int, Callable[[], None]]] = field(default_factory=list)
    seq: int = 0

    def at(self, when: float, action: Callable[[], None]) -> None:
        self.seq += 1
        heapq.heappush(self.events, (when, self.seq, action))

    def admit(self) -> int | None:
        """The sandbox's token bucket: None when accepted, else Retry-After in whole seconds."""
        capacity = max(1.0, self.rate)
        self.tokens = min(capacity, self.tokens + (self.now - self.refilled) * self.rate)
        self.refilled = self.now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - self.tokens) / self.rate))


class _Shard:
    def __init__(self, world: _World, work: int, rng: random.Random, workers: int = 64) -> None:
        self.world, self.left, self.queued, self.rng, self.workers = world, work, work, rng, workers
        self.told: Callable[[], None] | None = None  # --oracle: called at each refusal
        self.ended: Callable[[], None] | None = None  # --oracle: called when the last request is accepted
        self.work = work
        self.pacer = Pacer(clock=lambda: world.now, sleep=lambda seconds: None)
        self.active = 0
        self.blocked = 0  # workers waiting for a slot under the in-flight limit
        self.accepted = self.refused = 0
        self.done_at = 0.0

    def pump(self) -> None:
        while self.queued and self.active < self.workers:
            self.queued -= 1
            self.active += 1
            self.acquire()

    def acquire(self) -> None:
        """Pacer.acquire, one step at a time: the pause, a slot, a turn."""
        pacer, now = self.pacer, self.world.now
        if pacer._paused_until > now:
            self.world.at(pacer._paused_until, self.acquire)
        elif pacer._in_flight >= int(pacer._limit):
            self.blocked += 1
        else:
            pacer._started = now if pacer._started is None else pacer._started
            pacer._in_flight += 1
            in_flight = pacer._in_flight
            self.world.at(now + pacer._claim_turn(now), lambda: self.send(in_flight))

    def send(self, in_flight: int) -> None:
        pacer, world = self.pacer, self.world
        if pacer._paused_until > world.now:  # a 429 while it waited: a new turn after the pause

            def again() -> None:
                world.at(world.now + pacer._claim_turn(world.now), lambda: self.send(in_flight))

            world.at(pacer._paused_until, again)
            return
        ticket = Ticket(pacer._epoch, world.now, in_flight)
        latency = 0.05 * (1 + 0.3 * self.rng.random())
        world.at(world.now + latency / 2, lambda: self.arrive(ticket, latency))

    def arrive(self, ticket: Ticket, latency: float) -> None:
        retry_after = self.world.admit()
        self.world.at(self.world.now + latency / 2, lambda: self.answered(ticket, retry_after))

    def answered(self, ticket: Ticket, retry_after: int | None) -> None:
        self.pacer.release(ticket, 200 if retry_after is None else 429, retry_after)
        if retry_after is None:
            self.accepted += 1
            self.active -= 1
            self.left -= 1
            self.done_at = self.world.now
            if not self.left and self.ended:
                self.ended()
        else:
            self.refused += 1
            self.blocked += 1  # the same request goes again
            if self.told:
                self.told()
        while self.blocked and self.pacer._in_flight < int(self.pacer._limit):
            self.blocked -= 1
            self.acquire()
        self.pump()


def simulate(
    works: list[int],
    rate: float,
    seed: int,
    trace: bool = False,
    share: bool = True,
    oracle: bool = False,
    stagger: float = 0.0,
) -> tuple[float, float]:
    """(wall / (accepted / rate), 429 share) of one run; the bucket full, shards start at 0.5 s (or
    ``stagger``: each at a random moment up to that many seconds later, as processes do)."""
    world = _World(rate, tokens=max(1.0, rate))
    rng = random.Random(seed)
    shards = [_Shard(world, work, rng) for work in works]
    starts = [0.5 + (stagger * rng.random() if stagger else 0.0) for _ in works]
    if share:  # as apply --shard does: each pacer knows every shard's work
        for k, shard in enumerate(shards):
            shard.pacer.share(works, k)
    if oracle:
        for k, shard in enumerate(shards):
            shard.told = lambda pacer=shard.pacer: _tell(pacer, rate)
            shard.ended = lambda k=k: [other.pacer.sibling_ended(k) for other in shards]
    for shard, start in zip(shards, starts, strict=True):
        world.at(start, shard.pump)
    if trace:

        def show() -> None:
            cells = []
            for shard in shards:
                rate = shard.pacer._current_rate(world.now)
                cells.append(f"{shard.accepted:4d} {shard.refused:3d} {rate or 0:6.1f}")
            print(f"{world.now:5.1f} tokens {world.tokens:5.1f} | " + " | ".join(cells))
            if any(s.left for s in shards):
                world.at(world.now + 0.5, show)

        world.at(0.5, show)
    while world.events and world.now < 3600:
        world.now, _, action = heapq.heappop(world.events)
        action()
    accepted = sum(s.accepted for s in shards)
    refused = sum(s.refused for s in shards)
    wall = max(s.done_at for s in shards) - min(starts) + 0.5
    return wall / (accepted / rate), refused / (accepted + refused)


def _tell(pacer: Pacer, rate: float) -> None:
    """--oracle: from its first 429 on, the pacer spends the limit as if told it (no probing)."""
    if pacer.budget is None:
        pacer.budget, pacer._rate = Budget(rate), None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=24)
    parser.add_argument("--trace", help="one layout's first seed, every 0.5 s: accepted, refused, pace per shard")
    parser.add_argument("--no-share", action="store_true", help="pacers that do not know the others' work")
    parser.add_argument("--oracle", action="store_true", help="each pacer told the limit at its first 429 (see above)")
    parser.add_argument("--stagger", type=float, default=0.0, help="shards start up to this many seconds apart")
    args = parser.parse_args()
    if args.trace:
        works, rate = LAYOUTS[args.trace]
        print(simulate(works, rate, 0, trace=True, share=not args.no_share, oracle=args.oracle, stagger=args.stagger))
        return
    print(f"{'layout':16}{'ratio mean':>11}{'ratio max':>11}{'429 mean':>9}{'429 max':>9}")
    for name, (works, rate) in LAYOUTS.items():
        runs = [
            simulate(works, rate, seed, share=not args.no_share, oracle=args.oracle, stagger=args.stagger)
            for seed in range(args.seeds)
        ]
        ratios = [ratio for ratio, _ in runs]
        shares = [share for _, share in runs]
        mean_ratio, mean_share = sum(ratios) / len(ratios), sum(shares) / len(shares)
        print(f"{name:16}{mean_ratio:11.3f}{max(ratios):11.3f}{mean_share:9.1%}{max(shares):9.1%}")


if __name__ == "__main__":
    main()
