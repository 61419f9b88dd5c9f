"""A signal while apply's lock request is in flight (issue 8 point 3, "the lock is released").

The lock is a pod made by ``POST /v0/pods``: a signal that lands while that request is still on
its way used to make apply give up on the answer, so the pod the server then made was left behind
while apply said "the organisation lock was released". A relay between apply and the sandbox holds
the lock request, so the signal surely lands while it is in flight, then lets it through.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from e2e_harness import SandboxProcess, mailctl_command, tenants_config

from mailctl.api.lock import LOCK_PREFIX

DEADLINE = 30.0


@dataclass
class Hold:
    """One request to hold: the first whose bytes contain ``trigger``."""

    trigger: bytes
    seen: threading.Event = field(default_factory=threading.Event)  # the relay holds it now
    go: threading.Event = field(default_factory=threading.Event)  # let it through
    answered: threading.Event = field(default_factory=threading.Event)  # the server answered it


class HoldingRelay:
    """A TCP relay to the sandbox that holds armed requests until the test lets them through (or
    drops them: :meth:`close`)."""

    def __init__(self, upstream_url: str) -> None:
        parts = urlsplit(upstream_url)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.holds: list[Hold] = []
        self.sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, trigger: bytes) -> Hold:
        hold = Hold(trigger)
        with self._lock:
            self.holds.append(hold)
        return hold

    def _match(self, window: bytes) -> Hold | None:
        with self._lock:
            for hold in self.holds:
                if hold.trigger in window:
                    self.holds.remove(hold)
                    return hold
        return None

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
                server = socket.create_connection(self.upstream, timeout=DEADLINE)
            except OSError:
                return
            self.sockets += [client, server]
            held: list[Hold] = []  # the hold whose answer comes back next on this connection
            threading.Thread(target=self._upstream, args=(client, server, held), daemon=True).start()
            threading.Thread(target=self._downstream, args=(server, client, held), daemon=True).start()

    def _upstream(self, client: socket.socket, server: socket.socket, held: list[Hold]) -> None:
        tail = b""
        try:
            while chunk := client.recv(65536):
                hold = self._match(tail + chunk)
                tail = (tail + chunk)[-256:]
                if hold is not None:
                    hold.seen.set()
                    if not hold.go.wait(DEADLINE):
                        return
                    held.append(hold)
                server.sendall(chunk)
        except OSError:
            pass

    @staticmethod
    def _downstream(server: socket.socket, client: socket.socket, held: list[Hold]) -> None:
        try:
            while chunk := server.recv(65536):
                for hold in held:
                    hold.answered.set()
                held.clear()
                try:
                    client.sendall(chunk)
                except OSError:  # the client gave up on the answer: the server acted all the same
                    pass
        except OSError:
            pass

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            sock.close()


@pytest.fixture
def relay(sandbox: SandboxProcess) -> Iterator[HoldingRelay]:
    proxy = HoldingRelay(sandbox.url)
    yield proxy
    proxy.close()


def _wait(ready: Callable[[], bool], proc: subprocess.Popen[str], what: str, output: Callable[[], str]) -> None:
    """Poll until ``ready()`` (bounded); fail with the command's output if it never comes."""
    deadline = time.monotonic() + DEADLINE
    while not ready():
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait(timeout=DEADLINE)
            pytest.fail(f"no {what} within {DEADLINE:g}s:\n{output()}")
        time.sleep(0.02)


def _lock_pods(sandbox: SandboxProcess) -> list[tuple[str, str]]:
    """Every lock pod, read with the organisation key over the sandbox's HTTP API."""
    found, token = [], None
    while True:
        params = {"limit": 100, **({"page_token": token} if token else {})}
        page = sandbox.http.get("/v0/pods", params=params).json()
        found += [
            (p["client_id"], p["name"]) for p in page["pods"] if str(p.get("client_id") or "").startswith(LOCK_PREFIX)
        ]
        token = page.get("next_page_token")
        if not token:
            return found


class Apply:
    """``mailctl apply`` in a subprocess through the relay; stdout and stderr go to files."""

    def __init__(self, workdir: Path, relay: HoldingRelay, api_key: str, config: Path, *flags: str) -> None:
        self.out, self.err = workdir / "apply.out", workdir / "apply.err"
        env = {**os.environ, "AGENTMAIL_API_KEY": api_key}
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [
                    *mailctl_command(),
                    "apply",
                    "-f",
                    str(config),
                    "--endpoint",
                    relay.url,
                    "--auto-approve",
                    "--secrets-out",
                    str(workdir / "secrets.json"),
                    *flags,
                ],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                text=True,
                env=env,
                cwd=workdir,
            )

    def output(self) -> str:
        return self.out.read_text() + self.err.read_text()

    def wait(self, hold: Hold, what: str) -> None:
        _wait(lambda: hold.seen.is_set() or self.proc.poll() is not None, self.proc, what, self.output)
        if not hold.seen.is_set():
            pytest.fail(f"apply exited {self.proc.returncode} before {what}:\n{self.output()}")

    def signal_in_flight(self, hold: Hold, signum: int) -> None:
        """Signal while ``hold``'s request is held, then let it through once apply acted on the
        signal (it gave up and exited, or said it waits for the answer)."""
        self.proc.send_signal(signum)
        _wait(
            lambda: self.proc.poll() is not None or "Interrupt (" in self.err.read_text(),
            self.proc,
            "reaction to the signal",
            self.output,
        )
        hold.go.set()
        _wait(hold.answered.is_set, self.proc, "answer to the held request", self.output)

    def finish(self, mailctl) -> tuple[int, str]:
        code = self.proc.wait(timeout=DEADLINE)
        text = self.output()
        mailctl.watch.output("mailctl apply (signalled while locking)", text)
        assert "Traceback" not in text
        return code, text


@pytest.mark.parametrize(
    "trigger, flags, signum, lock_name",
    [
        (b"mailctl.lock", (), signal.SIGTERM, "the organisation lock"),
        (b"mailctl.lock.shard-1-of-2", ("--shard", "1/2"), signal.SIGHUP, "the lock of shard 1/2"),
        (b" probe", ("--shard", "1/2"), signal.SIGINT, "the lock of shard 1/2"),
    ],
    ids=["organisation-lock-SIGTERM", "shard-lock-SIGHUP", "shard-probe-SIGINT"],
)
def test_a_signal_while_the_lock_request_is_in_flight_leaves_no_lock_and_says_so_truly(
    relay, sandbox, mailctl, write_config, trigger, flags, signum, lock_name
):
    config = write_config(tenants_config(1, prefix="lk-"))
    hold = relay.arm(trigger)
    run = Apply(mailctl.workdir, relay, sandbox.api_key, config, *flags)
    run.wait(hold, "the lock request")
    run.signal_in_flight(hold, signum)
    code, output = run.finish(mailctl)

    assert code == 128 + signum, output
    assert f"nothing was changed; {lock_name} was released" in output
    assert _lock_pods(sandbox) == []
    rerun = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json")
    assert rerun.exit_code == 0, rerun.output  # no `mailctl unlock` needed


def test_a_second_signal_while_the_lock_is_released_exits_130_and_says_how_to_unlock(
    relay, sandbox, mailctl, write_config
):
    config = write_config(tenants_config(1, prefix="lk-"))
    take = relay.arm(b"mailctl.lock")
    run = Apply(mailctl.workdir, relay, sandbox.api_key, config)
    run.wait(take, "the lock request")
    release = relay.arm(b"DELETE /v0/pods/")
    run.signal_in_flight(take, signal.SIGTERM)
    run.wait(release, "the lock's release")
    run.proc.send_signal(signal.SIGINT)
    code, output = run.finish(mailctl)

    assert code == 130 and "Second interrupt: exiting now" in output
    assert f"mailctl unlock --endpoint {relay.url}" in output
    relay.close()  # the release never reaches the server: the lock stays, and unlock removes it
    assert [client_id for client_id, _ in _lock_pods(sandbox)] == ["mailctl.lock"]
    assert mailctl("unlock").exit_code == 0
    assert mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json").exit_code == 0
