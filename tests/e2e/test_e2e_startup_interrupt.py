"""Ctrl-C from the first instant (issue 17 point 5): while mailctl starts (importing the commands
takes about half a second), while it parses, and while a request hangs, every command exits 130
with one line and never a ``KeyboardInterrupt`` traceback. It used to print one and exit -2.

Signals go on observed milestones, not on a timer alone: with ``PYTHONPROFILEIMPORTTIME`` the
interpreter reports each module it finishes importing on stderr, so the test knows when mailctl's
first module has loaded and sends SIGINT 0.05, 0.2 and 0.5 s after it: into the heavy imports
(where the old entry point printed the traceback) and the command. Sent at once after spawn, the
signal lands in CPython's own start-up, before any mailctl code: the process must still end
without a traceback, as a signal ends it (130 to a shell).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest
from e2e_harness import ORG_KEY, mailctl_command, tenants_config
from test_e2e_interrupt import SilentServer

ENTRY_LOADED = " mailctl\n"  # the import-time line printed once mailctl's first module has run


@pytest.fixture
def hanging() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def _spawn(workdir, *args: str, trace_imports: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "AGENTMAIL_API_KEY": ORG_KEY}
    if trace_imports:
        env["PYTHONPROFILEIMPORTTIME"] = "1"
    return subprocess.Popen(
        [*mailctl_command(), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=workdir,
    )


def _interrupt(mailctl, proc: subprocess.Popen[str], seen: str = "") -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    output = out + seen + err
    mailctl.watch.output("mailctl (Ctrl-C)", output)
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output
    return proc.returncode, output


def test_ctrl_c_at_once_after_spawn_ends_without_a_traceback(mailctl, hanging, write_config) -> None:
    proc = _spawn(mailctl.workdir, "plan", "-f", str(write_config(tenants_config(1))), "--endpoint", hanging.url)
    returncode, output = _interrupt(mailctl, proc)
    # Before CPython installs its own handler the kernel ends the process (-2: a shell shows 130).
    assert returncode in (130, -signal.SIGINT), output


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.5])  # after mailctl's first module: in the imports
@pytest.mark.parametrize("command", ["plan", "unlock"])
def test_ctrl_c_while_mailctl_starts_exits_130_without_a_traceback(
    mailctl, hanging, write_config, command: str, delay: float
) -> None:
    args = ["-f", str(write_config(tenants_config(1)))] if command == "plan" else []
    proc = _spawn(mailctl.workdir, command, *args, "--endpoint", hanging.url, trace_imports=True)
    assert proc.stderr is not None
    seen = ""
    while not seen.endswith(ENTRY_LOADED):
        line = proc.stderr.readline()
        assert line, f"exited {proc.wait()} before loading its entry module:\n{seen}"
        seen += line
    time.sleep(delay)
    returncode, output = _interrupt(mailctl, proc, seen)
    assert returncode == 130, output
    assert "Aborted: interrupted (Ctrl-C)." in output


@pytest.mark.parametrize("command", ["unlock", "rotate"])
def test_ctrl_c_while_a_writers_request_hangs_exits_130(mailctl, hanging, write_config, command: str) -> None:
    """Writers unwind rather than exit at once (to release what they hold): a request that never
    answers must not hold them. (Read-only commands: test_e2e_interrupt.py.)"""
    config = write_config({"version": 1, "api_keys": {"ci": {}}})
    args = ["-f", str(config), "api_key/ci", "--secrets-out", "s.json"] if command == "rotate" else []
    proc = _spawn(mailctl.workdir, command, *args, "--endpoint", hanging.url)
    assert hanging.requested.wait(30), "the command never reached the API"
    returncode, output = _interrupt(mailctl, proc)
    assert returncode == 130, output
    assert "Aborted: interrupted (Ctrl-C)." in output
