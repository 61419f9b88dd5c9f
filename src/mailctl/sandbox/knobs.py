"""Run-time knobs that sit in front of the backend: latency, rate limiting, faults, statistics.

Each is thread-safe on its own lock, never the store's, so a slow or throttled request does not
hold up others. The values come from ``Settings`` and can change at run time (``/_sandbox/config``).
"""

from __future__ import annotations

import dataclasses
import math
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

from mailctl.sandbox.backend.core import SandboxError, Settings

Fault = Literal["before", "after"]


class RateLimiter:
    """A token bucket per budget (an organisation, or one key with ``rate_limit_scope: key``):
    ``rate`` requests per second, bursts up to ``max(1, rate)``."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill time)

    def acquire(self, key: str, rate: float | None) -> int | None:
        """None if the request may proceed, else the whole seconds to wait (``Retry-After``)."""
        if not rate:
            return None
        capacity, current = max(1.0, rate), time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, current))
            tokens = min(capacity, tokens + (current - last) * rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, current)
                return None
            self._buckets[key] = (tokens, current)
            return max(1, math.ceil((1.0 - tokens) / rate))

    def clear(self, prefix: str = "") -> None:
        """Forget every bucket whose name starts with ``prefix`` (all of them by default)."""
        with self._lock:
            for name in [n for n in self._buckets if n.startswith(prefix)]:
                del self._buckets[name]


@dataclass
class ArmedFault:
    """A one-off scripted failure for a route (``POST /_sandbox/faults``), e.g. the 409
    ``race_condition`` of §11 Q22 or the verify 422 of §11 Q8, which have no natural trigger."""

    method: str
    route: str
    status: int
    code: str
    when: Fault = "before"
    times: int = 1

    def error(self) -> SandboxError:
        return SandboxError(self.status, self.code, f"Injected fault ({self.code}) armed through /_sandbox/faults")


class FaultInjector:
    """Decides, reproducibly for a given seed, whether a write fails before or after committing,
    and hands out armed faults first."""

    def __init__(self, seed: int | None) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._armed: list[ArmedFault] = []

    def arm(self, fault: ArmedFault) -> None:
        with self._lock:
            self._armed.append(fault)

    def disarm(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, method: str, route: str) -> ArmedFault | None:
        with self._lock:
            for fault in self._armed:
                if (fault.method, fault.route) == (method, route):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._armed.remove(fault)
                    return fault
        return None

    def reseed(self, seed: int | None) -> None:
        with self._lock:
            self._rng = random.Random(seed)

    def draw(self, settings: Settings) -> Fault | None:
        if settings.fault_rate <= 0:
            return None
        with self._lock:
            if self._rng.random() >= settings.fault_rate:
                return None
            if settings.fault_mode == "both":
                return "before" if self._rng.random() < 0.5 else "after"
            return settings.fault_mode


class Stats:
    """Request counts by method, by route pattern and by status."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._routes: Counter[str] = Counter()
            self._methods: Counter[str] = Counter()
            self._statuses: Counter[str] = Counter()
            self._faults: Counter[str] = Counter()
            self._total = 0

    def record(self, method: str, route: str, status: int, fault: Fault | None = None) -> None:
        with self._lock:
            self._total += 1
            self._methods[method] += 1
            self._routes[f"{method} {route}"] += 1
            self._statuses[str(status)] += 1
            if fault:
                self._faults[fault] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "total": self._total,
                "by_method": dict(self._methods),
                "by_route": dict(sorted(self._routes.items())),
                "by_status": dict(self._statuses),
                "faults": {"before": self._faults["before"], "after": self._faults["after"]},
            }


def latency_seconds(settings: Settings, rng: random.Random) -> float:
    """The delay to add to one request: ``latency_ms`` plus up to ``latency_jitter_ms``."""
    if settings.latency_ms <= 0 and settings.latency_jitter_ms <= 0:
        return 0.0
    jitter = rng.uniform(0, settings.latency_jitter_ms) if settings.latency_jitter_ms > 0 else 0.0
    return (settings.latency_ms + jitter) / 1000.0


class OrgKnobs:
    """One organisation's knobs, statistics, scripted faults and jitter source: nothing a key of
    one organisation does through ``/_sandbox`` reaches another (issue 10, isolation)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.stats = Stats()
        self.faults = FaultInjector(settings.seed)
        self._jitter = random.Random(settings.seed)
        self._jitter_lock = threading.Lock()

    def apply(self, new: Settings) -> None:
        if new.seed != self.settings.seed:
            self.faults.reseed(new.seed)
            with self._jitter_lock:
                self._jitter = random.Random(new.seed)
        self.settings = new

    def latency(self) -> float:
        with self._jitter_lock:
            return latency_seconds(self.settings, self._jitter)


class OrgRegistry:
    """``OrgKnobs`` per organisation id, made on first use from the start-up settings."""

    def __init__(self, defaults: Settings) -> None:
        self.defaults = defaults
        self._lock = threading.Lock()
        self._orgs: dict[str, OrgKnobs] = {}

    def get(self, org_id: str) -> OrgKnobs:
        with self._lock:
            knobs = self._orgs.get(org_id)
            if knobs is None:
                knobs = self._orgs[org_id] = OrgKnobs(dataclasses.replace(self.defaults))
            return knobs
