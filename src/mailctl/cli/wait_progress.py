"""Progress lines (stderr) while apply waits: for the organisation lock, for domains to verify.

Each reporter says what it waits for and for how long at once, then at most every
``PROGRESS_EVERY`` seconds, so a long wait in CI is visibly alive without flooding the log.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import click

from mailctl.text import shown

PROGRESS_EVERY = 10.0
FOUND = "found"  # the status the writer (``api.writer.FOUND``) ends a wait for another shard with


class _Throttle:
    """Thread-safe: True the first time for a key, then at most once per ``every`` seconds."""

    def __init__(self, every: float = PROGRESS_EVERY, clock: Callable[[], float] = time.monotonic):
        self._every = every
        self._clock = clock
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def first(self, key: str) -> bool:
        with self._lock:
            return key not in self._last

    def due(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._every:
                return False
            self._last[key] = now
            return True


class _Reporter:
    """Prints in yellow on stderr, or plainly: ``color`` is decided by the command (the main
    thread), because the writer calls from worker threads, which do not see click's context."""

    def __init__(self, limit: float, every: float = PROGRESS_EVERY, color: bool | None = None):
        self.limit = limit
        self._throttle = _Throttle(every)
        self._color = color

    def _say(self, text: str) -> None:
        click.secho(shown(text), fg="yellow", err=True, color=self._color)


class DomainWaitReporter(_Reporter):
    """``--wait-for-domains``: called by the writer at every poll of a domain's status."""

    def __call__(self, domain: str, status: str, waited: float) -> None:
        first = self._throttle.first(domain)
        if status == "VERIFIED":
            if not first:
                self._say(f"Domain {domain} verified after {waited:.0f}s.")
            return
        if not self._throttle.due(domain):
            return
        if first:
            self._say(
                f"Waiting up to {self.limit:g}s for domain {domain} to verify (now {status}); inboxes "
                f"on it are created once it does."
            )
        else:
            self._say(f"Still waiting for domain {domain} to verify ({status}): {waited:.0f}s of {self.limit:g}s.")


class LockWaitReporter(_Reporter):
    """``--lock-timeout``: called by the lock at every attempt while another apply holds it."""

    def __call__(self, lock: str, holder: str, waited: float) -> None:
        """``lock``: which one ("the organisation lock", "the lock of shard 2/4")."""
        first = self._throttle.first(holder)
        if not self._throttle.due(holder):
            return
        if first:
            self._say(f"Waiting up to {self.limit:g}s for {lock}, held by {holder}.")
        else:
            self._say(f"Still waiting for {lock} held by {holder}: {waited:.0f}s of {self.limit:g}s.")


class ShardWaitReporter(_Reporter):
    """``--wait-for-shards``: called by the writer at every poll for what another shard creates."""

    def __call__(self, address: str, status: str, waited: float) -> None:
        first = self._throttle.first(address)
        if status.startswith(FOUND):
            if not first:
                by = status.removeprefix(FOUND).lstrip(", ")
                self._say(f"Found {address} after {waited:.0f}s ({by}).")
            return
        if not self._throttle.due(address):
            return
        if first:
            self._say(f"Waiting up to {self.limit:g}s for {address} ({status}); what needs it starts once it is ready.")
        else:
            self._say(f"Still waiting for {address} ({status}): {waited:.0f}s of {self.limit:g}s.")
