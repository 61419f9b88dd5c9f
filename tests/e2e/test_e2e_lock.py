"""The organisation lock over a served sandbox: unlock refuses while the holder runs on this host
(unless --force), and apply --lock-timeout waits for a held lock instead of failing at once."""

from __future__ import annotations

import os
import socket
import subprocess
import time

from e2e_harness import SandboxProcess, mailctl_command, tenants_config

from mailctl.api.lock import LOCK_CLIENT_ID


def _hold_lock(sandbox: SandboxProcess, pid: int) -> str:
    """Take the lock as if the apply with ``pid`` on this host held it; returns the pod_id."""
    name = f"mailctl lock tester@{socket.gethostname()} pid {pid} since 2026-01-01T10:00:00Z [e2e00000]"
    response = sandbox.http.post("/v0/pods", json={"client_id": LOCK_CLIENT_ID, "name": name})
    response.raise_for_status()
    pod_id: str = response.json()["pod_id"]
    return pod_id


def test_unlock_refuses_while_the_holder_runs_on_this_host_and_force_removes_it(mailctl, sandbox):
    _hold_lock(sandbox, os.getpid())  # this test's own process: alive, on this host
    refused = mailctl("unlock")
    assert refused.exit_code == 1
    assert f"pid {os.getpid()}" in refused.stderr and "held for" in refused.stderr
    assert f"mailctl unlock --force --endpoint {sandbox.url}" in refused.stderr
    assert mailctl("unlock").exit_code == 1  # still held

    forced = mailctl("unlock", "--force")
    assert forced.exit_code == 0 and f"pid {os.getpid()}" in forced.stdout and "held for" in forced.stdout
    assert mailctl("unlock").stdout.startswith("No apply lock is held")


def test_unlock_removes_the_lock_of_a_holder_that_died(mailctl, sandbox):
    child = subprocess.Popen(["true"])  # a pid that has exited
    child.wait(timeout=30)
    _hold_lock(sandbox, child.pid)
    released = mailctl("unlock")
    assert released.exit_code == 0 and f"pid {child.pid}" in released.stdout


def test_lock_timeout_waits_for_the_holder_says_who_it_is_and_then_applies(mailctl, sandbox, write_config):
    config = write_config(tenants_config(1, prefix="lck-"))
    pod_id = _hold_lock(sandbox, os.getpid())
    failed_at_once = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json")
    assert failed_at_once.exit_code == 1 and "another apply holds the organisation lock" in failed_at_once.stderr

    stderr = mailctl.workdir / "apply.err"
    env = {**os.environ, "AGENTMAIL_API_KEY": sandbox.api_key}
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [
                *mailctl_command(),
                "apply",
                "-f",
                str(config),
                "--endpoint",
                sandbox.url,
                "--auto-approve",
                "--secrets-out",
                "secrets.json",
                "--lock-timeout",
                "60",
            ],
            stdout=subprocess.PIPE,
            stderr=err,
            stdin=subprocess.DEVNULL,
            text=True,
            env=env,
            cwd=mailctl.workdir,
        )
    deadline = time.monotonic() + 30
    while "Waiting up to 60s for the organisation lock" not in stderr.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert f"pid {os.getpid()}" in stderr.read_text()
    sandbox.http.delete(f"/v0/pods/{pod_id}").raise_for_status()  # the holder finishes
    out, _ = proc.communicate(timeout=60)
    mailctl.watch.output("mailctl apply --lock-timeout 60", out + stderr.read_text())
    assert proc.returncode == 0, out + stderr.read_text()
    assert "Apply complete!" in out
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0


def test_lock_timeout_gives_up_when_the_lock_stays_held(mailctl, sandbox, write_config):
    config = write_config(tenants_config(1, prefix="lck-"))
    _hold_lock(sandbox, os.getpid())
    run = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json", "--lock-timeout", "1")
    assert run.exit_code == 1
    assert "Waiting up to 1s for the organisation lock" in run.stderr
    assert "another apply holds the organisation lock" in run.stderr and "after waiting 1s" in run.stderr


def test_a_release_that_fails_after_the_changes_keeps_the_report_and_says_the_lock_is_held(
    mailctl, sandbox, write_config
):
    """Found by QA: the lock's DELETE failing at the end replaced apply's whole report (what was
    done) with one line about a DELETE of some pod, and never said the lock was still held."""
    config = write_config({"version": 1, "pods": {"rel-000": {"name": "Released?"}}})
    fault = {"method": "DELETE", "route": "/v0/pods/{pod_id}", "status": 400, "code": "refused", "times": 1}
    sandbox.control("POST", "faults", {**fault, "when": "before"})
    applied = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json")
    assert applied.exit_code == 1
    assert "pod/rel-000: created" in applied.stdout + applied.stderr  # the report is there
    assert "Apply complete" in applied.stdout + applied.stderr
    assert "the organisation lock may still be held" in applied.stderr
    assert f"mailctl unlock --endpoint {sandbox.url}" in applied.stderr

    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0  # the changes were made
    refused = mailctl("apply", "-f", config, "--auto-approve")
    assert refused.exit_code == 1 and "another apply holds the organisation lock" in refused.stderr
    # --force: the fixture runs mailctl in this process, which the lock names and which still runs
    assert mailctl("unlock", "--force").exit_code == 0
    assert mailctl("apply", "-f", config, "--auto-approve").exit_code == 0


def test_a_release_that_fails_when_apply_refuses_keeps_the_refusal_and_says_the_lock_is_held(
    mailctl, sandbox, write_config
):
    config = write_config({"version": 1, "pods": {"rfs-000": {"api_keys": {"backend": {}}}}})  # needs --secrets-out
    fault = {"method": "DELETE", "route": "/v0/pods/{pod_id}", "status": 400, "code": "refused", "times": 1}
    sandbox.control("POST", "faults", {**fault, "when": "before"})
    refused = mailctl("apply", "-f", config, "--auto-approve")
    assert refused.exit_code == 1
    assert "--secrets-out" in refused.stderr  # the refusal is still what is reported
    assert "the organisation lock may still be held" in refused.stderr
    assert mailctl("unlock", "--force").stdout.startswith("Released the apply lock")


def _apply_process(mailctl, sandbox, config, *flags: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*mailctl_command(), "apply", "-f", str(config), "--auto-approve", "--endpoint", sandbox.url, *flags],
        cwd=mailctl.workdir,
        env={**os.environ, "AGENTMAIL_API_KEY": sandbox.api_key},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )


def test_shards_and_a_whole_config_apply_waiting_for_each_other_all_get_in(mailctl, sandbox, write_config):
    """Found by QA: with --lock-timeout on every side, a whole-config apply and shards kept taking
    their own lock each second, found the other's and let go, in step, until every one timed out
    (2 runs in 3 at 100 ms latency). The waits are staggered now: each side gets in."""
    config = write_config({"version": 1, "pods": {"wait-01": {"name": "One"}, "wait-02": {"name": "Two"}}})
    mailctl.apply(config)
    sandbox.configure(latency_ms=100)
    try:
        for _ in range(2):
            runs = [
                _apply_process(mailctl, sandbox, config, "--shard", "1/2", "--lock-timeout", "30"),
                _apply_process(mailctl, sandbox, config, "--shard", "2/2", "--lock-timeout", "30"),
                _apply_process(mailctl, sandbox, config, "--lock-timeout", "30"),
            ]
            outputs = [run.communicate(timeout=90)[0] for run in runs]
            for run, output in zip(runs, outputs, strict=True):
                mailctl.watch.output("apply", output)
                assert run.returncode == 0, output
    finally:
        sandbox.configure(latency_ms=0)


def _hold(sandbox: SandboxProcess, client_id: str, pid: int) -> None:
    name = f"mailctl lock tester@{socket.gethostname()} pid {pid} since 2026-01-01T10:00:00Z [e2e00001]"
    sandbox.http.post("/v0/pods", json={"client_id": client_id, "name": name}).raise_for_status()


def test_a_shard_lock_held_names_that_lock_and_the_unlock_of_that_shard_only(mailctl, sandbox, write_config):
    """Found by QA: a shard's lock errors said "the organisation lock" and `mailctl unlock`, which
    removes every lock, live shards' on other hosts included: following it let an apply interleave."""
    child = subprocess.Popen(["true"])
    child.wait(timeout=30)
    _hold(sandbox, "mailctl.lock.shard-2-of-3", child.pid)  # a shard whose apply died
    _hold(sandbox, "mailctl.lock.shard-1-of-3", os.getpid())  # a shard still running here
    config = write_config({"version": 1, "pods": {"sh-01": {"name": "One"}}})
    refused = mailctl("apply", "-f", config, "--shard", "2/3", "--auto-approve", "--lock-timeout", "1")
    assert refused.exit_code == 1
    assert "Waiting up to 1s for the lock of shard 2/3" in refused.stderr
    assert f"run `mailctl unlock --shard 2/3 --endpoint {sandbox.url}`" in refused.stderr

    unlock = mailctl("unlock")
    assert unlock.exit_code == 1
    assert "the lock of shard 1/3 is held by a process still running on this host" in unlock.stderr
    assert f"`mailctl unlock --shard 1/3 --force --endpoint {sandbox.url}`" in unlock.stderr
    assert f"`mailctl unlock --shard 2/3 --endpoint {sandbox.url}`" in unlock.stderr
    assert mailctl("unlock", "--shard", "2/3").exit_code == 0  # the dead one alone
    assert mailctl("unlock", "--shard", "1/3", "--force").exit_code == 0


def test_a_pod_another_tool_named_with_the_lock_prefix_is_no_lock(mailctl, sandbox, write_config):
    """`mailctl.lockfoo` (not a lock's id, not a lock holder's name) blocked every apply as "a
    running shard" and `unlock` deleted it, with the key it held."""
    made = sandbox.http.post("/v0/pods", json={"client_id": "mailctl.lockfoo", "name": "other tool"})
    made.raise_for_status()
    pod_id = made.json()["pod_id"]
    sandbox.http.post(f"/v0/pods/{pod_id}/api-keys", json={"name": "prodkey"}).raise_for_status()

    assert mailctl("unlock").stdout.startswith("No apply lock is held")
    assert sandbox.http.get(f"/v0/pods/{pod_id}").status_code == 200
    config = write_config(tenants_config(1, prefix="lkp-"))
    applied = mailctl("apply", "-f", config, "--auto-approve", "--secrets-out", "secrets.json")
    assert applied.exit_code == 0, applied.stderr
    assert sandbox.http.get(f"/v0/pods/{pod_id}").status_code == 200
