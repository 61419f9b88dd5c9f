"""The apply workflow's lines (``ops/apply.py``) that its mutation sweep found unpinned: each test
names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/ops/apply.py tests/unit/test_ops_apply_sweep.py``).

Everything runs against an embedded sandbox (``tmp_path/sandbox.db``): the workflow called as the
CLI and the Python API call it, or ``mailctl`` driven with click's CliRunner."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from lock_faults import release_fails

from mailctl.api.budget import Budget
from mailctl.api.client import AgentMailClient
from mailctl.api.connect import connect
from mailctl.api.lock import LOCK_CLIENT_ID, describe_lock
from mailctl.api.pacing import Pacer
from mailctl.api.siblings import SiblingWatch
from mailctl.cli.main import cli
from mailctl.config import load
from mailctl.errors import ApiError, LockNotReleased, UsageError
from mailctl.ops.apply import ApplyHooks, ApplyOptions, LockState, run_apply
from mailctl.ops.planning import Planned
from mailctl.plan.changes import Refusal, Rule
from mailctl.plan.shards import Shard
from mailctl.secrets import SecretSink

ENV = {"AGENTMAIL_API_KEY": "am_unused"}
CONFIG: dict[str, Any] = {
    "version": 1,
    "pods": {
        "a": {"name": "A", "api_keys": {"backend": {"permissions": {"inbox_read": True}}}},
        "b": {"name": "B"},
    },
}


def _write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(json.dumps(config))  # JSON is YAML
    return path


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return _write(tmp_path / "mailctl.yaml", CONFIG)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


@pytest.fixture
def client(db: Path) -> Iterator[AgentMailClient]:
    api = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        yield api
    finally:
        api.close()


def _mailctl(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--sandbox", str(db)], env=ENV)


def _state(db: Path) -> dict[str, list[str]]:
    """client_id of every declared pod -> the names of its API keys; and the lock pods held."""
    api = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        pods = api.list_all("/v0/pods", "pods")
        out = {
            p["client_id"]: sorted(k["name"] for k in api.list_all(f"/v0/pods/{p['pod_id']}/api-keys", "api_keys"))
            for p in pods
            if p.get("client_id") in ("a", "b")
        }
        out["locks"] = sorted(p["client_id"] for p in pods if str(p.get("client_id", "")).startswith(LOCK_CLIENT_ID))
        return out
    finally:
        api.close()


# -- the lock ------------------------------------------------------------------------------------------


def test_a_lock_left_held_after_the_work_keeps_the_outcome(
    client: AgentMailClient, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins ``if outcome is None: raise`` and ``outcome.lock_left = left``: a release failing after
    every change was made must not lose the report of those changes (negated or deleted, the
    caller got the lock error alone, or nothing saying the lock may still be held)."""
    release_fails(monkeypatch)
    sink = SecretSink(str(tmp_path / "keys.json"))
    outcome = run_apply(client, load([str(config)]), ApplyOptions(auto_approve=True), ApplyHooks(), sink)
    assert outcome.result is not None and len(outcome.result.results) == 3
    assert outcome.lock_left is not None and "may still be held" in str(outcome.lock_left)


def test_apply_with_its_lock_left_held_reports_the_changes_then_fails(
    db: Path, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same through the CLI: the report first, then the error naming ``mailctl unlock``."""
    release_fails(monkeypatch)
    run = _mailctl(db, "apply", "-f", str(config), "--auto-approve", "--secrets-out", str(tmp_path / "k.json"))
    assert run.exit_code == 1, run.output
    assert "Apply complete! 3 done" in run.stdout
    assert "may still be held" in run.stderr and "mailctl unlock" in run.stderr


def test_a_lock_neither_taken_nor_released_is_the_error_and_nothing_changes(
    db: Path, client: AgentMailClient, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins ``outcome = None`` and ``if outcome is None: raise``: the lock's own request failing
    after its pod was made, and the release failing too, is a LockNotReleased out of ``locked()``
    before any outcome. Without those lines the caller got an UnboundLocalError or an
    AssertionError instead of the message naming the lock and the unlock command."""
    release_fails(monkeypatch)

    def list_pods(client: AgentMailClient) -> list[dict[str, Any]]:
        raise ApiError(500, "boom", "listing refused by the test", "GET", "/v0/pods")

    monkeypatch.setattr("mailctl.api.lock.list_pods", list_pods)
    sink = SecretSink(str(tmp_path / "keys.json"))
    with pytest.raises(LockNotReleased, match="may still be held"):
        run_apply(client, load([str(config)]), ApplyOptions(auto_approve=True), ApplyHooks(), sink)
    assert "a" not in _state(db) and "b" not in _state(db)


def test_a_shard_tells_the_pacer_its_part_and_watches_its_siblings(
    client: AgentMailClient, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins ``share_pace(client, desired, options.shard)``, ``pacer = client.pacer`` and ``return
    SiblingWatch(...)``: without them the N shards of one config each ramped up as if alone (N
    times the pace one client would take), or a shard with a --rate-limit budget crashed, or never
    took up the parts of shards that ended."""
    shared: list[int] = []
    watched: list[object] = []
    monkeypatch.setattr(Pacer, "share", lambda self, works, own: shared.append(own))
    real_enter = SiblingWatch.__enter__
    monkeypatch.setattr(SiblingWatch, "__enter__", lambda self: watched.append(self) or real_enter(self))
    client.pacer = Pacer(budget=Budget(50))
    options = ApplyOptions(auto_approve=True, shard=Shard(1, 2))
    outcome = run_apply(client, load([str(config)]), options, ApplyHooks(), SecretSink(str(tmp_path / "keys.json")))
    assert outcome.result is not None
    assert shared == [0] and len(watched) == 1


def _declined(client: AgentMailClient, config: Path, tmp_path: Path) -> list[int | None]:
    """Apply with a confirm hook that declines: what it was asked (the count of messages at risk)."""
    asked: list[int | None] = []

    def confirm(planned: Planned, at_risk: int | None) -> None:
        asked.append(at_risk)
        raise UsageError("declined by the test")

    sink = SecretSink(str(tmp_path / "keys.json"))
    with pytest.raises(UsageError, match="declined by the test"):
        run_apply(client, load([str(config)]), ApplyOptions(), ApplyHooks(confirm=confirm), sink)
    return asked


def test_a_plan_that_destroys_mail_asks_for_the_count_and_a_refusal_changes_nothing(
    db: Path, client: AgentMailClient, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins ``if data_loss: hooks.confirm(planned, safety.messages_at_risk(plan))``: a person is
    asked to type how many messages are destroyed; without the call such a plan ran unconfirmed.
    (The data-loss refusal is planted: the rail's reasons are ``plan/safety``'s tests.)"""
    loss = Refusal(Rule.DATA_LOSS, "pod/a/inbox/x@agentmail.to holds 3 messages", ("pod/a",), "--allow-data-loss")
    monkeypatch.setattr("mailctl.ops.apply.safety.blocking", lambda refusals, force, allow: [loss])
    monkeypatch.setattr("mailctl.ops.apply.safety.messages_at_risk", lambda plan: 3)
    assert _declined(client, config, tmp_path) == [3]
    assert _state(db) == {"locks": []}


def test_lock_state_says_which_lock_was_released(client: AgentMailClient, config: Path, tmp_path: Path) -> None:
    """Pins ``state.lock = lock`` (and its ``if``) and LockState.released: after an interrupt
    the CLI says which lock was taken and released; without them it said "no lock was taken"."""
    state = LockState()
    assert state.released == "no lock was taken"
    sink = SecretSink(str(tmp_path / "keys.json"))
    run_apply(client, load([str(config)]), ApplyOptions(auto_approve=True), ApplyHooks(), sink, lock_state=state)
    assert state.lock is not None
    assert state.released == f"{describe_lock(LOCK_CLIENT_ID)} was released"


def test_lock_state_names_a_lock_that_may_still_be_held(
    client: AgentMailClient, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pins ``if self.lock and self.lock.not_released: return str(...)``: a lock left held is
    named with the unlock command, never reported as released."""
    release_fails(monkeypatch)
    state = LockState()
    sink = SecretSink(str(tmp_path / "keys.json"))
    outcome = run_apply(
        client, load([str(config)]), ApplyOptions(auto_approve=True), ApplyHooks(), sink, lock_state=state
    )
    assert outcome.lock_left is not None
    assert state.released == str(outcome.lock_left)
    assert "was released" not in state.released


# -- confirmation and the moment changes start -------------------------------------------------------


def test_without_auto_approve_nor_a_confirm_hook_nothing_is_changed(
    db: Path, client: AgentMailClient, config: Path, tmp_path: Path
) -> None:
    """Pins ``_no_confirmation``'s ``raise`` and ``elif not unattended: hooks.confirm(...)``: the
    default hook refuses; without it (or the call) an unattended caller applied unconfirmed."""
    sink = SecretSink(str(tmp_path / "keys.json"))
    with pytest.raises(UsageError, match="no way to confirm: pass auto_approve"):
        run_apply(client, load([str(config)]), ApplyOptions(), ApplyHooks(), sink)
    assert _state(db) == {"locks": []}


def test_the_confirm_hook_is_asked_without_a_count_and_its_refusal_changes_nothing(
    db: Path, client: AgentMailClient, config: Path, tmp_path: Path
) -> None:
    assert _declined(client, config, tmp_path) == [None]
    assert _state(db) == {"locks": []}


def test_executing_is_called_once_just_before_the_first_change(
    db: Path, client: AgentMailClient, config: Path, tmp_path: Path
) -> None:
    """Pins ``executing()``: the CLI's signal handling learns from it that changes started (an
    interrupt then no longer says "nothing was changed"). Not called for a refusal nor for a plan
    with nothing to do."""
    seen: list[dict[str, list[str]]] = []
    desired = load([str(config)])
    options = ApplyOptions(auto_approve=True)
    with pytest.raises(UsageError, match="secrets"):  # a key to create, no sink: refused
        run_apply(
            client, desired, ApplyOptions(auto_approve=True), ApplyHooks(), None, executing=lambda: seen.append({})
        )
    assert seen == []
    sink = SecretSink(str(tmp_path / "keys.json"))
    run_apply(client, desired, options, ApplyHooks(), sink, executing=lambda: seen.append(_state(db)))
    assert len(seen) == 1 and "a" not in seen[0] and "b" not in seen[0]  # before anything was made
    run_apply(client, desired, options, ApplyHooks(), sink, executing=lambda: seen.append({}))
    assert len(seen) == 1  # nothing to change: not executing
    assert set(_state(db)) == {"a", "b", "locks"}


# -- saved plans ------------------------------------------------------------------------------------


def test_a_saved_plan_of_some_targets_applies_only_those(config: Path, tmp_path: Path) -> None:
    """Pins ``targets = saved.targets if saved else ...`` and ``excludes = saved.excludes ...``:
    a saved plan is applied with the targets and excludes it was made with; without them the plan
    computed now covered the whole config, so the saved one was refused as stale."""
    for flag, address in (("--target", "pod/b"), ("--exclude", "pod/a")):
        db = tmp_path / f"{flag.strip('-')}.db"
        plan = tmp_path / f"{flag.strip('-')}.plan"
        planned = _mailctl(db, "plan", "-f", str(config), flag, address, "--out", str(plan))
        assert planned.exit_code == 0, planned.output
        run = _mailctl(db, "apply", str(plan))
        assert run.exit_code == 0, run.output
        assert _state(db) == {"b": [], "locks": []}


def test_a_stale_saved_plan_is_refused_and_changes_nothing(db: Path, config: Path, tmp_path: Path) -> None:
    """Pins ``if saved: saved.check_fresh(...)``: a plan file made before the state changed is
    refused, naming the command that makes it again. Without the check it applied whatever the
    plan computed now held: changes nobody reviewed."""
    plan = tmp_path / "old.plan"
    assert _mailctl(db, "plan", "-f", str(config), "--out", str(plan)).exit_code == 0
    only_pods = {"version": 1, "pods": {"a": {"name": "A"}, "b": {"name": "B"}}}
    early = _mailctl(db, "apply", "-f", str(_write(tmp_path / "pods.yaml", only_pods)), "--auto-approve")
    assert early.exit_code == 0, early.output
    before = _state(db)
    run = _mailctl(db, "apply", str(plan), "--secrets-out", str(tmp_path / "keys.json"))
    assert run.exit_code == 1, run.output
    assert "is stale" in run.stderr and "Nothing was changed." in run.stderr
    assert _state(db) == before and before["a"] == []


def test_apply_hides_the_webhook_header_values_it_sends_from_every_error(
    client: AgentMailClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An API whose validation error quotes the request body echoed the header values."""
    monkeypatch.setenv("HOOK_TOKEN", "env-token-value-1")
    webhook = {"url": "https://h.example/x", "event_types": ["message.received"]}
    headers = {"X-Hook-Token": {"env": "HOOK_TOKEN"}, "X-Lit": "literal-value-2"}
    config = _write(tmp_path / "hooks.yaml", {"version": 1, "webhooks": {"audit": {**webhook, "headers": headers}}})
    hidden: list[str] = []
    monkeypatch.setattr(client, "hide", lambda values: hidden.extend(values))
    run_apply(client, load([str(config)]), ApplyOptions(auto_approve=True), ApplyHooks())
    assert sorted(hidden) == ["env-token-value-1", "literal-value-2"]
