"""Counters of what the client sent: every attempt counts, retries included (benchmarks print them)."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any


class RequestStats:
    """Thread-safe counters of what the client sent: every attempt counts, retries included."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._total = 0
        self._retries = 0
        self._by_method: Counter[str] = Counter()

    def record_request(self, method: str) -> None:
        with self._lock:
            self._total += 1
            self._by_method[method] += 1

    def record_retry(self) -> None:
        with self._lock:
            self._retries += 1

    @property
    def total(self) -> int:
        with self._lock:
            return self._total

    @property
    def retries(self) -> int:
        with self._lock:
            return self._retries

    @property
    def by_method(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_method)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {"total": self._total, "retries": self._retries, "by_method": dict(self._by_method)}

    def __repr__(self) -> str:
        return f"RequestStats({self.snapshot()})"
