"""Apply's progress on stderr: a live status line on a terminal, a line every 10 s otherwise.

``Progress: 120/1000 done, 12.3 changes/s, ETA 1m 12s, concurrency 16, 3 x 429`` — steps
finished (any outcome) of all steps, the rate since changes started, the time left at that rate,
the requests the pacer lets be in flight, and how many requests the API refused so far. On a
terminal the line is redrawn in place (cleared before each step's own line is printed, so the two
never mix); in CI logs it is printed every :data:`EVERY` seconds. Nothing goes to stdout.

The line is drawn from a background thread, which cannot see click's context: the command passes
its colour decision (``--color``/``NO_COLOR``), and without colour the line is cleared with
spaces instead of the erase-line escape, so ``--color never`` writes no escapes at all.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from mailctl.cli import colour

if TYPE_CHECKING:
    from mailctl.api.pacing import Pacer

EVERY = 10.0  # seconds between lines without a terminal
REDRAW = 0.5  # seconds between redraws of the live line on a terminal
_CLEAR = "\r\x1b[K"


def duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    if hours:
        return f"{hours}h {rest // 60}m"
    return f"{rest // 60}m {rest % 60}s" if rest >= 60 else f"{rest}s"


class ApplyProgress:
    def __init__(
        self,
        total: int,
        pacer: Pacer | None,
        stream: TextIO | None = None,
        tty: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        every: float = EVERY,
        color: bool | None = None,
    ):
        self.total = total
        self.pacer = pacer
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.done = 0
        self._clock = clock
        self._every = every
        self._started = clock()
        self._last_line = self._started
        self._escapes = self.tty and colour.wanted(color, self.stream)
        self._shown = 0  # the length of the live line on screen (0: none)
        self._lock = threading.RLock()

    def line(self) -> str:
        elapsed = self._clock() - self._started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        eta = duration((self.total - self.done) / rate) if rate > 0 else "unknown"
        text = f"Progress: {self.done}/{self.total} done, {rate:.1f} changes/s, ETA {eta}"
        if self.pacer is not None:
            text += f", concurrency {self.pacer.limit}, {self.pacer.refusals} x 429"
            pause = self.pacer.pause_left()
            if pause > 0:
                text += f", paused {pause:.0f}s (Retry-After)"
        return text

    def steps_finished(self, count: int, show: Callable[[], None]) -> None:
        """Count ``count`` finished steps; ``show`` prints their own lines (below, never through,
        the live line, which is redrawn once for all of them)."""
        with self._lock:
            self.done += count
            self._clear()
            show()
            self.tick()

    def tick(self) -> None:
        """Redraw the live line (terminal), or print a line if ``every`` seconds passed (no terminal)."""
        with self._lock:
            if self.tty:
                self._clear()
                text = self.line()
                self.stream.write(text)
                self.stream.flush()
                self._shown = len(text)
            elif self._clock() - self._last_line >= self._every:
                self._last_line = self._clock()
                self.stream.write(self.line() + "\n")
                self.stream.flush()

    def finish(self) -> None:
        with self._lock:
            self._clear()

    @contextmanager
    def running(self) -> Iterator[ApplyProgress]:
        """Tick from a background thread (a rate-limit pause finishes no step for a while)."""
        stop = threading.Event()

        def loop() -> None:
            while not stop.wait(REDRAW if self.tty else min(REDRAW * 2, self._every)):
                self.tick()

        ticker = threading.Thread(target=loop, name="mailctl-progress", daemon=True)
        ticker.start()
        try:
            yield self
        finally:
            stop.set()
            ticker.join()
            self.finish()

    def _clear(self) -> None:
        if self._shown:
            self.stream.write(_CLEAR if self._escapes else "\r" + " " * self._shown + "\r")
            self.stream.flush()
            self._shown = 0
