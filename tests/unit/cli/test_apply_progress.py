"""Apply's progress: the live status line on a (fake) terminal, and one line every 10 s without one."""

from __future__ import annotations

import io

from mailctl.api.pacing import Pacer
from mailctl.cli.apply_progress import ApplyProgress, duration


class FakeTerminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_status_line_says_done_of_total_rate_eta_concurrency_and_429s():
    clock = Clock()
    pacer = Pacer(fixed=16)
    pacer.refusals = 3
    progress = ApplyProgress(1000, pacer, stream=FakeTerminal(True), clock=clock)
    progress.done = 120
    clock.now = 10.0
    assert progress.line() == "Progress: 120/1000 done, 12.0 changes/s, ETA 1m 13s, concurrency 16, 3 x 429"


def test_on_a_terminal_the_line_is_redrawn_in_place_and_cleared_before_each_step_line():
    clock, terminal, shown = Clock(), FakeTerminal(True), []
    progress = ApplyProgress(4, None, stream=terminal, clock=clock)
    clock.now = 1.0
    progress.steps_finished(1, lambda: shown.append(terminal.getvalue()))
    progress.steps_finished(1, lambda: shown.append(terminal.getvalue()))
    assert shown[0] == ""  # nothing drawn yet: the first step's line comes first
    assert shown[1].endswith("Progress: 1/4 done, 1.0 changes/s, ETA 3s\r\x1b[K")  # cleared before the line
    assert terminal.getvalue().endswith("\r\x1b[KProgress: 2/4 done, 2.0 changes/s, ETA 1s")
    assert "\n" not in terminal.getvalue()
    progress.finish()
    assert terminal.getvalue().endswith("\r\x1b[K")


def test_steps_that_finished_together_are_counted_and_shown_under_one_redraw():
    clock, terminal, shown = Clock(), FakeTerminal(True), []
    progress = ApplyProgress(10, None, stream=terminal, clock=clock)
    clock.now = 1.0
    progress.steps_finished(3, lambda: shown.append(terminal.getvalue()))
    assert shown == [""] and progress.done == 3
    assert terminal.getvalue() == "Progress: 3/10 done, 3.0 changes/s, ETA 2s"


def test_without_a_terminal_one_line_every_10_seconds():
    clock, log = Clock(), FakeTerminal(False)
    progress = ApplyProgress(100, Pacer(), stream=log, clock=clock)
    for second in range(1, 36):
        clock.now = float(second)
        progress.done = second
        progress.tick()
    lines = log.getvalue().splitlines()
    assert len(lines) == 3  # at 10, 20 and 30 s
    assert lines[0].startswith("Progress: 10/100 done, 1.0 changes/s, ETA 1m 30s, concurrency 8, 0 x 429")
    assert "\r" not in log.getvalue()


def test_a_step_line_does_not_print_progress_without_a_terminal_before_10_seconds():
    clock, log = Clock(), FakeTerminal(False)
    progress = ApplyProgress(3, None, stream=log, clock=clock)
    for _ in range(3):
        progress.steps_finished(1, lambda: None)
    assert log.getvalue() == ""


def test_a_shared_pause_is_shown():
    clock = Clock()
    pacer = Pacer(clock=clock)
    pacer.release(pacer.acquire(), 429, retry_after=4.0)
    assert pacer.pause_left() == 4.0
    line = ApplyProgress(10, pacer, stream=FakeTerminal(True), clock=clock).line()
    assert line.endswith("1 x 429, paused 4s (Retry-After)")


def test_durations_read_like_the_lock_ages():
    assert [duration(s) for s in (0, 9.6, 73, 3600 + 125)] == ["0s", "10s", "1m 13s", "1h 2m"]


def test_step_lines_of_a_batch_keep_their_order_across_stdout_and_stderr(capsys):
    from mailctl.apply import DONE, FAILED, SKIPPED, StepResult
    from mailctl.cli.apply_cmd import _print_steps
    from mailctl.plan.changes import CREATE, DELETE

    _print_steps(
        [
            StepResult("pod/a", CREATE, DONE),
            StepResult("pod/b", CREATE, DONE),
            StepResult("pod/c", CREATE, FAILED, "boom\x1b[2J"),
            StepResult("pod/c/inbox/x@agentmail.to", CREATE, SKIPPED, "depends on create of pod/c"),
            StepResult("pod/d", DELETE, DONE),
        ]
    )
    out, err = capsys.readouterr()
    assert out == "pod/a: created\npod/b: created\npod/d: destroyed\n"
    assert err == "pod/c: create FAILED: boom\\x1b[2J\n"  # escaped, and not coloured off a terminal
