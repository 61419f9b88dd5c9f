"""Ctrl-C, SIGTERM and SIGHUP during apply: the first stops new changes and lets those in flight
finish; the report says what was not started; the lock is released; re-running converges. A second
signal exits at once (130). Read-only commands stop cleanly (128 + signal) without talk of changes."""

from __future__ import annotations

import os
import pty
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from e2e_harness import ORG_KEY, Inventory, SandboxProcess, mailctl_command, tenants_config, watched_sandbox


@pytest.fixture(scope="module")
def slow(server: SandboxProcess, secret_watch) -> Iterator[SandboxProcess]:
    with watched_sandbox(secret_watch, "slow", server.api_key, "--latency-ms", "150") as process:
        yield process


def _start_apply(slow: SandboxProcess, config, workdir) -> subprocess.Popen[str]:
    """apply in the background; its stdout and stderr go to files the test watches (apply.out/.err)."""
    env = {**os.environ, "AGENTMAIL_API_KEY": slow.api_key}
    with (workdir / "apply.out").open("w") as out, (workdir / "apply.err").open("w") as err:
        return subprocess.Popen(
            [
                *mailctl_command(),
                "apply",
                "-f",
                str(config),
                "--endpoint",
                slow.url,
                "--auto-approve",
                "--parallelism",
                "2",
                "--secrets-out",
                str(workdir / "secrets.json"),
            ],
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )


def _wait_for(
    proc: subprocess.Popen[str], ready: Callable[[], bool], what: str, output: Callable[[], str], timeout: float = 60
) -> None:
    """Poll until ``ready()``: signals go on an observed milestone, never on a timer. Fails (with the
    command's output) if the command exits first or the milestone never comes."""
    deadline = time.monotonic() + timeout
    while not ready():
        if proc.poll() is not None:
            pytest.fail(f"the command exited {proc.returncode} before {what}:\n{output()}")
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=30)
            pytest.fail(f"no {what} within {timeout:g}s:\n{output()}")
        time.sleep(0.02)


def _interrupt_apply(slow: SandboxProcess, mailctl, config, *signals_: int) -> tuple[int, str, str]:
    workdir = mailctl.workdir
    proc = _start_apply(slow, config, workdir)

    def out() -> str:
        return (workdir / "apply.out").read_text()

    def err() -> str:
        return (workdir / "apply.err").read_text()

    # The first keys land after pods and inboxes: apply is well under way.
    _wait_for(proc, (workdir / "secrets.json").exists, "the first change", lambda: out() + err())
    for number, signum in enumerate(signals_):
        if number:  # a second signal only once the first was handled: two alike sent at once merge into one
            _wait_for(
                proc,
                lambda: "finishing changes in flight" in err(),
                "the first signal's message",
                lambda: out() + err(),
            )
        proc.send_signal(signum)
    proc.wait(timeout=60)
    mailctl.watch.output("mailctl apply (signalled)", out() + err())
    assert "Traceback" not in out() + err()
    return proc.returncode, out(), err()


def _rerun_converges(slow: SandboxProcess, mailctl, config) -> None:
    rerun = mailctl("apply", "-f", config, "--auto-approve", "--parallelism", "8", "--secrets-out", "secrets.json")
    assert rerun.exit_code == 0, rerun.output
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
    assert not Inventory.read(slow.sdk()).duplicates()


def test_first_interrupt_finishes_in_flight_changes_and_rerun_converges(slow, mailctl, write_config):
    slow.reset()
    mailctl.sandbox = slow
    data = tenants_config(4, prefix="int-")
    config = write_config(data)
    returncode, out, err = _interrupt_apply(slow, mailctl, config, signal.SIGINT)
    assert returncode == 1, out + err
    assert "finishing changes in flight" in err
    assert "Not started:" in out and "interrupted before it started" in out
    assert "Traceback" not in out + err
    _rerun_converges(slow, mailctl, config)


def test_second_interrupt_exits_at_once_and_unlock_frees_the_lock(slow, mailctl, write_config):
    slow.reset()
    mailctl.sandbox = slow
    config = write_config(tenants_config(4, prefix="int-"))
    returncode, out, err = _interrupt_apply(slow, mailctl, config, signal.SIGINT, signal.SIGINT)
    assert returncode == 130 and "Second interrupt: exiting now" in err

    held = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json")
    assert held.exit_code == 1 and "another apply holds the organisation lock" in held.stderr
    assert mailctl("unlock").exit_code == 0
    assert (
        mailctl(
            "apply", "-f", config, "--auto-approve", "--parallelism", "8", "--secrets-out", "secrets.json"
        ).exit_code
        == 0
    )


# ---------------------------------------------------------------------------------------------
# SIGTERM (a cancelled CI job) and SIGHUP (a closed terminal)


def _keys(slow: SandboxProcess) -> list:
    client, rows, token = slow.sdk(), [], None
    while True:
        page = client.api_keys.list(limit=100, page_token=token) if token else client.api_keys.list(limit=100)
        rows += [k for k in page.api_keys if getattr(k, "type", "bearer") == "bearer"]
        token = page.next_page_token
        if not token:
            return rows


def _assert_every_declared_key_has_its_secret(slow: SandboxProcess, mailctl) -> None:
    path = mailctl.workdir / "secrets.json"
    recorded = {r["api_key_id"] for r in mailctl.watch.secrets_file(path)} if path.exists() else set()
    declared = [k for k in _keys(slow) if k.name in ("backend", "reader")]
    assert declared, "the interrupted apply created no key: interrupt later"
    assert [k.name for k in declared if k.api_key_id not in recorded] == []


@pytest.mark.parametrize("signum, code", [(signal.SIGTERM, 143), (signal.SIGHUP, 129)], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_like_the_first_ctrl_c_report_and_release_the_lock(
    slow, mailctl, write_config, signum, code
):
    slow.reset()
    mailctl.sandbox = slow
    config = write_config(tenants_config(4, prefix="int-"))
    returncode, out, err = _interrupt_apply(slow, mailctl, config, signum)
    assert returncode == code, out + err
    assert "finishing changes in flight" in err
    assert "Not started:" in out and "interrupted before it started" in out
    assert "Apply incomplete!" in out and " done, " in out
    assert f"apply stopped by {signal.Signals(signum).name}" in err
    _assert_every_declared_key_has_its_secret(slow, mailctl)

    _rerun_converges(slow, mailctl, config)  # the lock was released: no `mailctl unlock` needed


def test_a_second_signal_of_any_kind_aborts_with_130_and_says_how_to_recover(slow, mailctl, write_config):
    slow.reset()
    mailctl.sandbox = slow
    config = write_config(tenants_config(4, prefix="int-"))
    returncode, out, err = _interrupt_apply(slow, mailctl, config, signal.SIGTERM, signal.SIGHUP)
    assert returncode == 130 and "Second interrupt: exiting now" in err
    # The recovery commands carry the endpoint this apply used, so they can be pasted as they are.
    assert f"mailctl plan -f {config} --endpoint {slow.url}" in err
    assert f"mailctl unlock --endpoint {slow.url}" in err
    assert mailctl("unlock").exit_code == 0  # the holder is dead: unlock needs no --force


@pytest.fixture
def slower(slow: SandboxProcess) -> Iterator[SandboxProcess]:
    """``slow`` with a second per request: a signal sent after the lock surely lands while apply reads."""
    slow.reset()
    slow.configure(latency_ms=1000)
    yield slow
    slow.configure(latency_ms=150)


class SilentServer:
    """Accepts connections, reads the request, never answers: a command waits on it until signalled."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.requested = threading.Event()
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            if conn.recv(65536):
                self.requested.set()

    def close(self) -> None:
        self.listener.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentServer]:
    server = SilentServer()
    yield server
    server.close()


def _start(mailctl, endpoint: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "AGENTMAIL_API_KEY": ORG_KEY}
    return subprocess.Popen(
        [*mailctl_command(), *args, "--endpoint", endpoint],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        cwd=mailctl.workdir,
    )


def _finish(mailctl, proc: subprocess.Popen[str], signum: int, what: str) -> tuple[int, str]:
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=30)
    mailctl.watch.output(f"{what} ({signal.Signals(signum).name})", out + err)
    assert "Traceback" not in out + err
    return proc.returncode, out + err


@pytest.mark.parametrize(
    "command, signum, code",
    [
        ("plan", signal.SIGINT, 130),
        ("plan", signal.SIGTERM, 143),
        ("plan", signal.SIGHUP, 129),
        ("drift", signal.SIGTERM, 143),
        ("export", signal.SIGINT, 130),
    ],
)
def test_an_interrupted_read_only_command_exits_cleanly_and_says_nothing_about_changes_in_flight(
    silent, mailctl, write_config, command, signum, code
):
    args = (command, "-o", "out") if command == "export" else (command, "-f", str(write_config(tenants_config(1))))
    proc = _start(mailctl, silent.url, *args)
    assert silent.requested.wait(30), "the command never reached the API"
    returncode, output = _finish(mailctl, proc, signum, f"mailctl {command}")
    assert returncode == code, output
    assert "Aborted: interrupted" in output
    assert "in flight" not in output


def test_sigterm_while_apply_plans_changes_nothing_and_releases_the_lock(slower, mailctl, write_config):
    mailctl.sandbox = slower
    config = write_config(tenants_config(2, prefix="int-"))
    proc = _start(mailctl, slower.url, "apply", "-f", str(config), "--auto-approve", "--secrets-out", "secrets.json")
    # The lock is taken and the state is being read: apply lists pods (GET /v0/pods) only once the
    # lock's POST has returned. Counting the POST itself is too early: it is counted on arrival, and
    # a signal while it is still in flight leaves a lock the client never learnt it made.
    _wait_for(
        proc,
        lambda: bool(slower.stats()["by_route"].get("GET /v0/pods")),
        "the first read after the lock",
        lambda: "(output is read once the command ends)",
    )
    returncode, output = _finish(mailctl, proc, signal.SIGTERM, "mailctl apply while planning")
    assert returncode == 143, output
    assert "nothing was changed" in output
    slower.configure(latency_ms=150)
    assert not [p for p, _ in Inventory.read(slower.sdk()).pods if p.startswith("int-")]
    assert mailctl("unlock").stdout.startswith("No apply lock is held")


@contextmanager
def _apply_at_the_prompt(slow, mailctl, write_config) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    """An apply (real process, stdin on a pseudo-terminal: apply asks only on a terminal) that
    has printed its confirmation prompt: yields the process, the terminal's writing end, its output."""
    slow.reset()
    mailctl.sandbox = slow
    config = write_config(tenants_config(1, prefix="int-"))
    primary, replica = pty.openpty()
    stdout = mailctl.workdir / "apply.out"
    env = {**os.environ, "AGENTMAIL_API_KEY": slow.api_key}
    with stdout.open("w") as out:
        proc = subprocess.Popen(
            [*mailctl_command(), "apply", "-f", str(config), "--endpoint", slow.url, "--secrets-out", "secrets.json"],
            stdin=replica,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            cwd=mailctl.workdir,
        )
    os.close(replica)
    try:
        # Only once apply asks (it is then reading the terminal): input or a signal sent earlier
        # would test another moment, and one sent after apply already failed would prove nothing.
        _wait_for(
            proc, lambda: "Apply these changes?" in stdout.read_text(), "the confirmation prompt", stdout.read_text
        )
        yield proc, primary, stdout
    finally:
        os.close(primary)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)], ids=["SIGTERM", "SIGINT"])
def test_sigterm_at_the_confirmation_prompt_changes_nothing_and_releases_the_lock(
    slow, mailctl, write_config, signum, code
):
    with _apply_at_the_prompt(slow, mailctl, write_config) as (proc, _, stdout):
        proc.send_signal(signum)
        assert proc.wait(timeout=30) == code, stdout.read_text()
    output = stdout.read_text()
    mailctl.watch.output(f"mailctl apply ({signum.name} at the prompt)", output)
    assert "nothing was changed" in output and "Traceback" not in output
    assert not [p for p, _ in Inventory.read(slow.sdk()).pods if p.startswith("int-")]
    assert mailctl("unlock").stdout.startswith("No apply lock is held")


@pytest.mark.parametrize(("answer", "code"), [("y", 0), ("n", 1)], ids=["yes", "no"])
def test_the_confirmation_prompt_applies_on_yes_and_changes_nothing_on_no(slow, mailctl, write_config, answer, code):
    with _apply_at_the_prompt(slow, mailctl, write_config) as (proc, terminal, stdout):
        os.write(terminal, f"maybe\n{answer}\n".encode())  # an unclear answer is asked again
        assert proc.wait(timeout=60) == code, stdout.read_text()
    output = stdout.read_text()
    mailctl.watch.output(f"mailctl apply (answered {answer})", output)
    assert "Please answer y or n." in output and "Traceback" not in output
    created = [p for p, _ in Inventory.read(slow.sdk()).pods if p.startswith("int-")]
    assert bool(created) == (answer == "y")
    if answer == "n":
        assert "apply cancelled (nothing was changed)" in output


def test_first_interrupt_starts_none_of_the_changes_queued_for_their_turn(slow, mailctl, write_config):
    """Default parallelism (up to 64 workers) under --rate-limit 4: the changes handed to workers
    but waiting for their turn in the pace are not started once the signal came. Before, all of
    them ran (39 of 40 creates after the signal, 10 s), past CI's grace period."""
    slow.reset()
    config = write_config({"version": 1, "pods": {f"sig-{i:02d}": {"name": f"Pod {i}"} for i in range(40)}})
    env = {**os.environ, "AGENTMAIL_API_KEY": slow.api_key}
    out_file = mailctl.workdir / "apply.out"
    with out_file.open("w") as out:
        proc = subprocess.Popen(
            [*mailctl_command(), "apply", "-f", str(config), "--endpoint", slow.url, "--auto-approve"]
            + ["--rate-limit", "4"],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
        )
    _wait_for(proc, lambda: ": created" in out_file.read_text(), "the first change", out_file.read_text)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 1
    text = out_file.read_text()
    mailctl.watch.output("mailctl apply (signalled)", text)
    after = text[text.index("Interrupt (") :].count(": created")
    made = [p for p, _ in Inventory.read(slow.sdk()).pods if p.startswith("sig-")]
    assert after <= 4, text  # at 4 requests/s, what was on the wire at the signal
    assert len(made) == text.count(": created")  # every change made is reported, nothing else was made
    assert "interrupted before it started" in text
