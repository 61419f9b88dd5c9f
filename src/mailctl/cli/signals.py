"""What SIGINT (Ctrl-C), SIGTERM (a cancelled CI job) and SIGHUP (a closed terminal) do.

Every command exits 128 + the signal number (130 Ctrl-C, 143 SIGTERM, 129 SIGHUP), never with
a traceback. Read-only commands stop at once. Others unwind: SIGTERM and SIGHUP raise
:class:`Terminated` in the main thread, as Ctrl-C raises KeyboardInterrupt, so ``with`` blocks
release what they hold (the apply lock) before the CLI exits.

``apply`` adds :class:`GracefulStop`: once changes are executing, the first of these signals
stops new changes from starting while those in flight finish (their secrets are recorded, the
report printed, the lock released); a second one, at any time, exits 130 at once. Taking and
releasing the lock run :meth:`GracefulStop.deferred`: a request whose effect must be known (was
the lock made? was it removed?) is never abandoned half-way by the first signal.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TextIO

import click

from mailctl.errors import Terminated

EXIT_ABORTED = 130
GRACEFUL = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
RECOVERY = (
    "Changes in flight may or may not have happened: run `mailctl plan` to see where things "
    "stand; if the next apply says the organisation lock is held, run `mailctl unlock`."
)

Handler = Callable[[int, FrameType | None], None]


def name_of(signum: int) -> str:
    return "Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name


def exit_code(signum: int) -> int:
    return 128 + signum


@contextmanager
def handlers(signums: tuple[int, ...], handler: Handler) -> Iterator[None]:
    """Install ``handler`` for ``signums`` for the duration (main thread only), then restore.

    A signal the process was started to ignore (``nohup`` ignores SIGHUP) stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, object] = {}
    for signum in signums:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            previous[signum] = signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)  # type: ignore[arg-type]


def _flush(stream: TextIO) -> None:
    try:
        stream.flush()
    except (OSError, ValueError, RuntimeError):  # closed pipe, or interrupted mid-write
        pass


def exit_now(code: int, message: str) -> None:
    """Print ``message`` and leave at once: no unwinding, no wait for requests still in flight."""
    _flush(sys.stdout)
    click.echo(message, err=True)
    _flush(sys.stderr)
    os._exit(code)


class _Policy:
    """A signal handler that is installed for the duration of a ``with``."""

    @contextmanager
    def installed(self) -> Iterator[None]:
        with handlers(GRACEFUL, self._on_signal), _unwinding_kept():
            yield

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        raise NotImplementedError


@contextmanager
def _unwinding_kept() -> Iterator[None]:
    """Python runs a signal handler between any two bytecodes of the main thread: inside a
    ``__del__`` or a weakref callback too (importlib's, while a command imports what it runs), where
    the exception it raises is printed as "Exception ignored" and dropped, and the command carried
    on as if never asked to stop (``unlock`` then waited out a silent server). For the duration,
    such a dropped unwinding prints nothing and is raised again at the main thread's next call
    (a Python or C function: ``sys.setprofile``), outside the context that dropped it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = sys.unraisablehook

    def hook(unraisable: sys.UnraisableHookArgs) -> None:
        exc = unraisable.exc_value
        if (
            not isinstance(exc, KeyboardInterrupt | Terminated)
            or threading.current_thread() is not threading.main_thread()
        ):
            previous(unraisable)
            return
        signum = exc.signum if isinstance(exc, Terminated) else signal.SIGINT

        def raise_again(frame: FrameType, event: str, arg: object) -> None:
            if frame.f_code.co_filename == __file__:
                return  # still this hook returning: the context that drops exceptions
            sys.setprofile(None)
            _unwind(signum)

        sys.setprofile(raise_again)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        sys.unraisablehook = previous


def _unwind(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Terminated(signum)


class CommandSignals(_Policy):
    """Every command's policy, installed by the CLI group. A read-only command has nothing to clean
    up, so a signal ends it at once (waiting for a slow or silent API would only delay the exit);
    any other command unwinds (SIGTERM/SIGHUP raise Terminated, Ctrl-C KeyboardInterrupt) so that
    what it holds is released."""

    def __init__(self) -> None:
        self.read_only = False

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.read_only:
            exit_now(exit_code(signum), f"\nAborted: interrupted ({name_of(signum)}).")
        _unwind(signum)


class GracefulStop(_Policy):
    """apply's signal policy. Until :meth:`executing`, a signal unwinds the command (nothing was
    changed yet); from then on the first one sets :attr:`stop`. A second signal aborts (130)."""

    def __init__(self, recovery: str = RECOVERY) -> None:
        self.recovery = recovery
        self.stop = threading.Event()
        self.signum: int | None = None
        self._executing = False
        self._deferring = 0  # depth of deferred() blocks
        self._held: int | None = None  # a signal deferred() holds

    def executing(self) -> None:
        self._executing = True

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Hold a first signal until the block ends, then act on it. For the lock's requests: a
        signal that abandoned the lock's POST in flight left a lock the server made after apply
        stopped listening; abandoning its DELETE would make "the lock was released" a guess."""
        self._deferring += 1
        try:
            yield
        finally:
            self._deferring -= 1
            if not self._deferring and self._held is not None:
                held, self._held = self._held, None
                _unwind(held)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.signum is not None:
            # Like Terraform: a second signal exits now, without waiting for requests in flight.
            exit_now(EXIT_ABORTED, f"\nSecond interrupt: exiting now ({name_of(signum)}). {self.recovery}")
        self.signum = signum
        if not self._executing and self._deferring:
            self._held = signum
            click.echo(
                f"\nInterrupt ({name_of(signum)}): stopping once the lock request in flight returns "
                f"({_again(signum)} to abort).",
                err=True,
            )
            return
        if not self._executing:
            _unwind(signum)
        self.stop.set()
        click.echo(
            f"\nInterrupt ({name_of(signum)}): finishing changes in flight, starting no new ones "
            f"({_again(signum)} to abort).",
            err=True,
        )


def _again(signum: int) -> str:
    return "Ctrl-C again" if signum == signal.SIGINT else "a second signal"
