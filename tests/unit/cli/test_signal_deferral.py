"""GracefulStop.deferred: a first signal during the lock's requests is held until they return."""

from __future__ import annotations

import signal

import pytest

from mailctl.cli.signals import GracefulStop
from mailctl.errors import Terminated


def test_a_signal_inside_deferred_is_acted_on_only_when_the_outermost_block_ends() -> None:
    guard = GracefulStop()
    finished = []
    with pytest.raises(Terminated) as caught, guard.deferred():
        with guard.deferred():
            guard._on_signal(signal.SIGTERM, None)  # as the handler would, mid-request
            finished.append("inner request")
        finished.append("outer request")
    assert caught.value.signum == signal.SIGTERM
    assert finished == ["inner request", "outer request"]


def test_a_signal_outside_deferred_unwinds_at_once_and_ctrl_c_is_a_keyboard_interrupt() -> None:
    guard = GracefulStop()
    with guard.deferred():
        pass  # no signal: nothing raised
    with pytest.raises(KeyboardInterrupt):
        guard._on_signal(signal.SIGINT, None)


def test_once_changes_execute_deferred_holds_nothing_and_the_signal_only_stops_new_changes() -> None:
    guard = GracefulStop()
    guard.executing()
    with guard.deferred():  # the release at the end of an apply that was executing
        guard._on_signal(signal.SIGHUP, None)
    assert guard.stop.is_set() and guard.signum == signal.SIGHUP
