"""The console entry point, ``mailctl`` (the command group is :mod:`mailctl.cli.group`).

This module imports nothing heavy (2 ms), so that :func:`main` takes over signals before anything
else runs: importing the commands (click) takes 50 ms, and what a command runs (httpx, the config
loader, the sandbox...) up to half a second more on busy cores; a Ctrl-C in that time used to print
a ``KeyboardInterrupt`` traceback and exit -2.
From the first line of :func:`main` on, a signal exits 128 + its number (130 for Ctrl-C) with one
line and no traceback; once a command runs, its own policy (``mailctl.cli.signals``) takes over.
A Ctrl-C while the console script imports this module is a ``KeyboardInterrupt`` that no code
can catch; :func:`_uncaught` (the excepthook, set as this module loads) ends it the same
way. Only CPython's own start-up, before any mailctl code (about 15 ms), is out of reach: a
Ctrl-C then ends the process as a signal does (a shell shows 130), or CPython reports it.

It is also where a broken stdout ends: a closed pipe or a full disk (EPIPE, ENOSPC...) is one line
on stderr and exit 1, whether the write failed while the command printed or at the last flush.
"""

from __future__ import annotations

import _signal  # not `signal`: it imports enum, 5 ms more before Ctrl-C is handled
import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing takes 10 ms more (mypy knows this name)
if TYPE_CHECKING:
    from types import FrameType, TracebackType
    from typing import Any, NoReturn

    from mailctl.cli.group import cli as cli

EXIT_ERROR = 1  # = mailctl.errors.EXIT_ERROR, not imported: this module stays light
_STARTUP_SIGNALS = {_signal.SIGINT: "Ctrl-C", _signal.SIGTERM: "SIGTERM", _signal.SIGHUP: "SIGHUP"}


def _uncaught(kind: type[BaseException], exc: BaseException, traceback: TracebackType | None) -> None:
    """``sys.excepthook``: a Ctrl-C that nothing caught exits 130 quietly; anything else as before."""
    if issubclass(kind, KeyboardInterrupt):
        _aborted(_signal.SIGINT)
    _previous_hook(kind, exc, traceback)


_previous_hook, sys.excepthook = sys.excepthook, _uncaught


def _write_stderr(text: str) -> None:
    try:
        os.write(2, text.encode())
    except OSError:  # stderr itself is closed or full: the exit code says it
        pass


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    """Before (and after) a command's own policy: nothing to release yet, so leave at once."""
    _aborted(signum)


def _aborted(signum: int) -> NoReturn:
    _write_stderr(f"\nAborted: interrupted ({_STARTUP_SIGNALS[signum]}).\n")
    os._exit(128 + signum)


def _take_over_signals() -> None:
    for signum in _STARTUP_SIGNALS:
        if _signal.getsignal(signum) is not _signal.SIG_IGN:  # nohup's SIGHUP stays ignored
            _signal.signal(signum, _exit_on_signal)


def main() -> None:
    """Console entry point."""
    _take_over_signals()
    try:
        from mailctl.cli.group import cli as group

        code = _exit_code(group)
    except KeyboardInterrupt:  # a Ctrl-C that reached here past every handler
        _aborted(_signal.SIGINT)
    sys.exit(_flushed(code))


def _exit_code(group: Any) -> int | str | None:
    try:
        group.main(prog_name="mailctl")
    except SystemExit as exc:
        return exc.code
    return 0


def _flushed(code: int | str | None) -> int | str | None:
    """``code``, or 1 when what the command printed cannot all be written (EPIPE, ENOSPC)."""
    try:
        sys.stdout.flush()
    except OSError as exc:
        return output_failed(exc)
    return code


def output_failed(exc: OSError) -> int:
    """Report a failed write to stdout in one line, and make sure nothing tries to write it again
    (the interpreter's own last flush would print "Exception ignored" and exit 120)."""
    _write_stderr(f"Error: cannot write the output: {exc.strerror or exc}\n")
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # the buffer still held is flushed there
    except (OSError, ValueError, AttributeError):  # not a real file (a test's runner)
        pass
    return EXIT_ERROR


def __getattr__(name: str) -> Any:
    """``mailctl.cli.main.cli``: the group, imported on first use (callers and tests import it here)."""
    if name == "cli":
        from mailctl.cli.group import cli as group

        return group
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
