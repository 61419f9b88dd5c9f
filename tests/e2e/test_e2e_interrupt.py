"""Ctrl-C during apply: the first stops new changes and lets those in flight finish; the report
says what was not started; re-running converges. A second Ctrl-C exits at once."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import pytest

from e2e_harness import Inventory, SandboxProcess, mailctl_command, tenants_config


@pytest.fixture(scope="module")
def slow(server: SandboxProcess, secret_watch) -> Iterator[SandboxProcess]:
    process = SandboxProcess(server.api_key, "--latency-ms", "150")
    yield process
    process.stop()
    secret_watch.output("mailctl sandbox serve (slow)", process.output())
    process.close()


def _start_apply(slow: SandboxProcess, config, workdir) -> subprocess.Popen[str]:
    env = {**os.environ, "AGENTMAIL_API_KEY": slow.api_key}
    return subprocess.Popen(
        [*mailctl_command(), "apply", "-f", str(config), "--endpoint", slow.url, "--auto-approve",
         "--parallelism", "2", "--secrets-out", str(workdir / "secrets.json")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env)


def _wait_for_first_change(proc: subprocess.Popen[str], workdir) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not (workdir / "secrets.json").exists():
        time.sleep(0.05)  # the first keys land after pods and inboxes: apply is well under way


def test_first_interrupt_finishes_in_flight_changes_and_rerun_converges(slow, mailctl, write_config):
    slow.reset()
    mailctl.sandbox = slow
    data = tenants_config(4, prefix="int-")
    config = write_config(data)
    proc = _start_apply(slow, config, mailctl.workdir)
    _wait_for_first_change(proc, mailctl.workdir)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    mailctl.watch.output("mailctl apply (interrupted)", out + err)
    assert proc.returncode == 1, out + err
    assert "finishing changes in flight" in err
    assert "Not started:" in out and "interrupted before it started" in out
    assert "Traceback" not in out + err

    rerun = mailctl("apply", "-f", config, "--auto-approve", "--parallelism", "8", "--secrets-out", "secrets.json")
    assert rerun.exit_code == 0, rerun.output
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
    assert not Inventory.read(slow.sdk()).duplicates()


def test_second_interrupt_exits_at_once_and_unlock_frees_the_lock(slow, mailctl, write_config):
    slow.reset()
    mailctl.sandbox = slow
    config = write_config(tenants_config(4, prefix="int-"))
    proc = _start_apply(slow, config, mailctl.workdir)
    _wait_for_first_change(proc, mailctl.workdir)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    mailctl.watch.output("mailctl apply (aborted)", out + err)
    assert proc.returncode == 130 and "Second interrupt: exiting now" in err

    held = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json")
    assert held.exit_code == 1 and "another apply holds the organisation lock" in held.stderr
    assert mailctl("unlock").exit_code == 0
    assert mailctl("apply", "-f", config, "--auto-approve", "--parallelism", "8",
                   "--secrets-out", "secrets.json").exit_code == 0
