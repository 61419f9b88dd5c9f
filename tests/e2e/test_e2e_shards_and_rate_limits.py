"""Shard locks over the served sandbox, sharded applies that run at once, an apply with
--parallelism 20 that finishes in one run against a low organisation rate limit, and shards (and
the Python API) told that limit (--rate-limit), which keep within it from the first request."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from e2e_harness import SandboxProcess, apply_shards_at_once, tenants_config, watched_sandbox

from mailctl import Project
from mailctl.api import lock, siblings
from mailctl.api.client import AgentMailClient
from mailctl.api.pacing import Pacer
from mailctl.errors import UnsafePlan, UsageError


@pytest.fixture
def client(sandbox: SandboxProcess) -> Iterator[AgentMailClient]:
    with AgentMailClient(sandbox.url, sandbox.api_key) as api:
        yield api


def _lock_ids(api: AgentMailClient) -> list[str]:
    return sorted(p["client_id"] for p in lock.find_all(api))


def test_the_shards_of_one_config_hold_their_locks_at_the_same_time(client):
    with (
        lock.ApplyLock(client, shard=(1, 3)),
        lock.ApplyLock(client, shard=(2, 3)),
        lock.ApplyLock(client, shard=(3, 3)),
    ):
        assert _lock_ids(client) == [lock.shard_lock_id(k, 3) for k in (1, 2, 3)]  # no probe left behind
    assert _lock_ids(client) == []


def test_two_runs_of_the_same_shard_exclude_each_other(client):
    with lock.ApplyLock(client, shard=(2, 4)):
        with pytest.raises(UnsafePlan) as caught, lock.ApplyLock(client, shard=(2, 4)):
            pass
        assert "another apply of shard 2/4 holds its lock" in str(caught.value)
        assert _lock_ids(client) == [lock.shard_lock_id(2, 4)]


def test_an_apply_of_the_whole_config_is_refused_while_a_shard_runs(client):
    with lock.ApplyLock(client, shard=(1, 2)):
        with pytest.raises(UnsafePlan) as caught, lock.ApplyLock(client, exclude_shards=True):
            pass
        assert "applies of shard(s) 1/2 are running" in str(caught.value)
        assert _lock_ids(client) == [lock.shard_lock_id(1, 2)]  # its own global lock was released


def test_a_shard_is_refused_while_an_apply_of_the_whole_config_runs(client):
    with lock.ApplyLock(client, exclude_shards=True):
        with pytest.raises(UnsafePlan) as caught, lock.ApplyLock(client, shard=(1, 2)):
            pass
        assert "an apply of the whole config holds the organisation lock" in str(caught.value)
        assert _lock_ids(client) == [lock.LOCK_CLIENT_ID]  # the shard lock was released


def test_lock_pods_never_show_in_plans_and_unlock_removes_shard_locks(client, mailctl, write_config):
    config = write_config(tenants_config(1, prefix="sh-"))
    for client_id in (lock.shard_lock_id(2, 4), lock.LOCK_CLIENT_ID + ".something-newer"):
        client.post(
            "/v0/pods",
            {"client_id": client_id, "name": "mailctl lock ci@elsewhere pid 1 since 2026-01-01T10:00:00Z [dead0000]"},
            idempotent=True,
        )
    plan = mailctl.plan_json(config)
    assert not [c for c in plan["changes"] if "mailctl.lock" in c["address"]]
    assert "mailctl.lock" not in mailctl("plan", "-f", config).stdout
    assert mailctl("unlock", "--shard", "1/4").stdout.startswith("No lock of shard 1/4 is held")
    released = mailctl("unlock")
    assert released.exit_code == 0
    assert "Released the lock of shard 2/4 held by: mailctl lock ci@elsewhere" in released.stdout
    assert _lock_ids(client) == []


def test_four_shards_apply_at_once_and_together_build_the_whole_config(sandbox, mailctl, write_config):
    config = write_config(tenants_config(8, prefix="sh-"))
    results = apply_shards_at_once(config, sandbox, mailctl.workdir, 4)
    for secrets in mailctl.workdir.glob("secrets-*.json"):
        mailctl.watch.secrets_file(secrets)
    for code, output in results:
        mailctl.watch.output("mailctl apply --shard", output)
        assert code == 0, output
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
    assert _lock_ids_of(sandbox) == []


def _lock_ids_of(sandbox: SandboxProcess) -> list[str]:
    with AgentMailClient(sandbox.url, sandbox.api_key) as api:
        return _lock_ids(api)


@pytest.fixture(scope="module")
def limited(server: SandboxProcess, secret_watch) -> Iterator[SandboxProcess]:
    with watched_sandbox(
        secret_watch, "rate limit", server.api_key, "--rate-limit", "6", "--latency-ms", "20"
    ) as process:
        yield process


def test_parallelism_20_under_a_low_rate_limit_finishes_in_one_run(limited, mailctl, write_config):
    limited.reset()
    mailctl.sandbox = limited
    config = write_config(tenants_config(3, prefix="rl-"))
    run = mailctl.subprocess(
        "apply", "-f", config, "--auto-approve", "--parallelism", "20", "--secrets-out", "secrets.json", timeout=120
    )
    assert run.exit_code == 0, run.output
    assert "Apply complete!" in run.stdout and "FAILED" not in run.output
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0


def _refused(sandbox: SandboxProcess) -> int:
    return int(sandbox.stats().get("by_status", {}).get("429", 0))


@pytest.mark.parametrize("told", [True, False], ids=["told", "learnt"])
def test_shards_told_the_rate_limit_keep_within_it_from_the_first_request(limited, mailctl, write_config, told):
    """Two shards started together under a limit of 6/s: told it (--rate-limit 6), each spends its
    part and none is refused; left to learn it, they are refused (so the first case proves the rail)."""
    limited.reset()
    config = write_config(tenants_config(2, prefix="rt-"))
    results = apply_shards_at_once(config, limited, mailctl.workdir, 2, *(["--rate-limit", "6"] if told else []))
    for code, output in results:
        mailctl.watch.output("mailctl apply --shard", output)
        assert code == 0, output
    assert (_refused(limited) == 0) is told
    mailctl.sandbox = limited
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0


def test_the_python_api_keeps_within_its_rate_limit(limited, write_config):
    limited.reset()
    project = Project(
        config=tenants_config(2, prefix="rp-"), endpoint=limited.url, api_key=limited.api_key, rate_limit=6
    )
    report = project.apply(project.plan(), secrets=lambda record: None, parallelism=20)
    assert report.ok
    assert _refused(limited) == 0


@pytest.mark.parametrize("value", ["0", "-3", "nan", "fast", "inf", "1e-10", "5e-324", "0.09", "1000001"])
def test_a_rate_limit_that_is_no_positive_number_is_refused_naming_the_option(mailctl, write_config, value):
    run = mailctl("plan", "-f", write_config(tenants_config(1)), "--rate-limit", value)
    assert run.exit_code != 0
    assert "--rate-limit" in run.output and "Traceback" not in run.output


@pytest.mark.parametrize("value", [0, -3, float("nan"), float("inf"), 10**400, 1e-10, "5"])
def test_the_python_api_refuses_a_rate_limit_that_is_no_positive_number(value):
    with pytest.raises(UsageError, match="rate_limit"):
        Project(config=tenants_config(1), sandbox="unused.db", rate_limit=value)


@pytest.mark.parametrize(
    "command",
    [
        ("plan",),
        ("drift",),
        ("export",),
        ("dns",),
        ("unlock",),
        ("apply", "--auto-approve", "--secrets-out", "secrets.json"),
        ("rotate", "pod/rb-000/api_key/backend", "--retire-old"),
    ],
    ids=lambda command: command[0],
)
def test_every_command_that_talks_to_the_api_keeps_to_rate_limit(mailctl, write_config, monkeypatch, command):
    """--rate-limit reaches the pacer of whichever command runs (each pacer it makes, all with it)."""
    config = write_config(tenants_config(1, prefix="rb-"))
    mailctl.apply(config)
    budgets: list[float | None] = []
    plain = Pacer.__init__

    def recording(self: Pacer, *args: Any, **kwargs: Any) -> None:
        plain(self, *args, **kwargs)
        budgets.append(None if self.budget is None else self.budget.per_second)

    monkeypatch.setattr(Pacer, "__init__", recording)
    name, *rest = command
    args = [name] if name in ("unlock", "dns") else [name, "-f", config]
    run = mailctl(*args, *rest, "--rate-limit", "7.5")
    assert run.exit_code in (0, 2), run.output
    assert budgets and set(budgets) == {7.5}


def test_a_shard_told_the_limit_takes_up_the_part_of_a_shard_that_has_ended(limited, write_config, monkeypatch):
    """Issue 19 point 4: shard 2 of 2 is not running (done already, or nothing to change), so shard 1
    finds its lock gone and spends the whole budget, not its half; still never refused."""
    monkeypatch.setattr(siblings, "FIRST_ROUND", 0.0)  # look at once: the apply is short
    limited.reset()
    project = Project(
        config=tenants_config(4, prefix="rs-"), endpoint=limited.url, api_key=limited.api_key, rate_limit=6
    )
    plan = project.plan(shard="1/2")
    budget = project._budget
    assert budget is not None and budget._share is not None and budget._share < 1.0  # its part, planning
    assert project.apply(plan, secrets=lambda record: None).ok
    assert budget._share == 1.0  # the whole budget: shard 2's part was taken up
    assert _refused(limited) == 0
