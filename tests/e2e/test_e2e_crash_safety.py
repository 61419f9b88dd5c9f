"""Crash safety: SIGKILL `mailctl apply` at random instants, then re-apply until converged.

At no instant may a key exist under its declared name without its secret recorded in the sink;
after convergence every declared key exists exactly once. The same holds when the sandbox
injects faults (writes that fail before, or commit and then answer 500) under a rate limit.

Every trial starts from a fresh sandbox; the kill instants are drawn from a seeded generator, so
a failing trial names the seed and instant that reproduce it.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_harness import Inventory, SandboxProcess, declared_inventory, mailctl_command

from mailctl.secrets import declared_name_of

CONFIG: dict[str, Any] = {
    "version": 1,
    "api_keys": {"crash-reader": {"permissions": {"inbox_read": True}}, "crash-deployer": {}},
    "pods": {"crash-pod": {
        "name": "Crash",
        "api_keys": {"backend": {}, "ops": {"permissions": {"message_read": True}}},
        "inboxes": {"crash-bot@agentmail.to": {"api_keys": {"agent": {}, "triage": {}}}},
    }},
}
DECLARED_NAMES = {"crash-reader", "crash-deployer", "backend", "ops", "agent", "triage"}
KILLS = 20
FAULT_SEEDS = (11, 23, 37)
KILLS_PER_SEED = 4
LATENCY_MS = 20  # plus up to as much jitter
SETTLE = 4 * LATENCY_MS / 1000
FAULTS = {"fault_rate": 0.3, "fault_mode": "both", "rate_limit": 40}


@pytest.fixture(scope="module")
def slow(server: SandboxProcess, secret_watch: Any) -> Iterator[SandboxProcess]:
    process = SandboxProcess(server.api_key, "--latency-ms", str(LATENCY_MS), "--latency-jitter-ms", str(LATENCY_MS))
    yield process
    process.stop()
    secret_watch.output("mailctl sandbox serve (crash)", process.output())
    process.close()


def _keys(sandbox: SandboxProcess) -> list[dict[str, Any]]:
    rows, token = [], None
    while True:
        params: dict[str, Any] = {"limit": 100, **({"page_token": token} if token else {})}
        response = sandbox.http.get("/v0/api-keys", params=params)
        response.raise_for_status()
        page = response.json()
        rows += page["api_keys"]
        token = page.get("next_page_token")
        if not token:
            return rows


def _recorded_ids(watch: Any, *sinks: Path) -> set[str]:
    ids = set()
    for sink in sinks:
        if sink.exists():
            ids |= {r["api_key_id"] for r in watch.secrets_file(sink)}  # valid JSON, 0600, watched
    return ids


def _unrecorded_named_keys(sandbox: SandboxProcess, recorded: set[str]) -> list[str]:
    """Keys under a declared name whose secret is in no sink: what must never exist."""
    return [f"{k['name']} ({k['api_key_id']})" for k in _keys(sandbox)
            if k["name"] in DECLARED_NAMES and k["api_key_id"] not in recorded]


def _pending_keys(sandbox: SandboxProcess) -> list[str]:
    return [k["name"] for k in _keys(sandbox) if declared_name_of(k["name"]) is not None]


def _start_apply(sandbox: SandboxProcess, config: Path, sink: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "AGENTMAIL_API_KEY": sandbox.api_key}
    return subprocess.Popen(
        [*mailctl_command(), "apply", "-f", str(config), "--endpoint", sandbox.url, "--auto-approve",
         "--parallelism", "4", "--secrets-out", str(sink)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env)


def _kill_at(sandbox: SandboxProcess, config: Path, sink: Path, delay: float, watch: Any) -> None:
    proc = _start_apply(sandbox, config, sink)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    watch.output("mailctl apply (killed)", out + err)
    time.sleep(SETTLE)  # requests the dead process had sent still land: look after they have


def _converge(mailctl: Any, config: Path, sink: Path, attempts: int = 8) -> None:
    """Re-apply (as another machine would: a new sink, no local state) until the plan is clean."""
    mailctl("unlock")  # the killed apply could not release the organisation lock
    for _ in range(attempts):
        if mailctl("apply", "-f", config, "--auto-approve", "--force", "--secrets-out", sink).exit_code == 0:
            return  # everything applied (what exists is checked by the caller)
    pytest.fail(f"no convergence after {attempts} re-applies")


def _trial(mailctl: Any, sandbox: SandboxProcess, config: Path, delay: float, label: str,
           knobs: dict[str, Any] | None = None) -> bool:
    """One kill and the convergence after it; True when the kill landed amid key creation."""
    sandbox.reset()
    if knobs:
        sandbox.configure(**knobs)
    first, second = mailctl.workdir / f"{label}-killed.json", mailctl.workdir / f"{label}-rerun.json"
    _kill_at(sandbox, config, first, delay, mailctl.watch)
    after_kill = _unrecorded_named_keys(sandbox, _recorded_ids(mailctl.watch, first))
    assert after_kill == [], f"{label}: keys without a recorded secret after the kill: {after_kill}"
    made = [k["name"] for k in _keys(sandbox) if (declared_name_of(k["name"]) or k["name"]) in DECLARED_NAMES]
    amid_keys = 0 < len(made) < len(DECLARED_NAMES) or len(made) != len(set(made)) or bool(_pending_keys(sandbox))

    if _pending_keys(sandbox):  # the next plan names what the kill left, and why
        plan = mailctl("plan", "-f", config, "--json")
        reasons = {c["address"]: c["reason"] for c in plan.json()["changes"]}
        assert "secret never recorded" in reasons.values(), f"{label}: {reasons}"

    _converge(mailctl, config, second)
    if knobs:
        sandbox.configure(fault_rate=0.0, rate_limit=None)  # read the outcome without faults
    converged = _unrecorded_named_keys(sandbox, _recorded_ids(mailctl.watch, first, second))
    assert converged == [], f"{label}: keys without a recorded secret after converging: {converged}"
    assert _pending_keys(sandbox) == [], f"{label}: pending keys left after converging"
    inventory = Inventory.read(sandbox.sdk())
    assert inventory.duplicates() == {}, f"{label}: duplicates {inventory.duplicates()}"
    declared = declared_inventory(CONFIG).keys
    assert sorted(k for k in inventory.keys if k[2] in DECLARED_NAMES) == declared, label
    return amid_keys


@pytest.fixture(scope="module")
def window(slow: SandboxProcess, tmp_path_factory: pytest.TempPathFactory) -> tuple[float, float]:
    """When to kill: from the end of interpreter start-up (nothing happens before) to just past the
    end of an uninterrupted apply, measured here, so the instants cover the keys being created."""
    workdir = tmp_path_factory.mktemp("crash-calibration")
    config = workdir / "mailctl.yaml"
    config.write_text(json.dumps(CONFIG))  # JSON is YAML
    slow.reset()
    started = time.monotonic()
    proc = _start_apply(slow, config, workdir / "calibration.json")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    span = time.monotonic() - started
    return 0.3 * span, 1.05 * span


def test_sigkill_at_random_instants_never_leaves_a_key_without_its_secret(slow, window, mailctl,
                                                                          write_config):
    mailctl.sandbox = slow
    config = write_config(CONFIG)
    rng = random.Random(20260801)
    hits = 0
    for trial in range(KILLS):
        delay = rng.uniform(*window)
        hits += _trial(mailctl, slow, config, delay, f"trial {trial} (kill at {delay:.3f}s)")
    assert hits > 0, "no kill landed while keys were being created: the window is wrong"


@pytest.mark.parametrize("seed", FAULT_SEEDS)
def test_sigkill_under_faults_and_a_rate_limit_never_leaves_a_key_without_its_secret(
        slow, window, mailctl, write_config, seed):
    mailctl.sandbox = slow
    config = write_config(CONFIG)
    rng = random.Random(seed)
    start, end = window
    for trial in range(KILLS_PER_SEED):
        delay = rng.uniform(start, 1.5 * end)  # faults and retries make the apply longer
        _trial(mailctl, slow, config, delay, f"seed {seed} trial {trial} (kill at {delay:.3f}s)",
               knobs={**FAULTS, "seed": seed * 100 + trial})


def test_a_leftover_pending_key_is_planned_as_a_replacement_and_apply_replaces_it(mailctl, sandbox,
                                                                                   write_config):
    config = write_config(CONFIG)
    pod_id = sandbox.http.post("/v0/pods", json={"name": "Crash", "client_id": "crash-pod"}).json()["pod_id"]
    for _ in range(2):  # two killed runs left a pending key each
        sandbox.http.post(f"/v0/pods/{pod_id}/api-keys", json={"name": "backend#mailctl-pending"})

    plan = mailctl("plan", "-f", config, "--json").json()
    changes = {c["address"]: c for c in plan["changes"]}
    replaced = changes["pod/crash-pod/api_key/backend"]
    assert (replaced["action"], replaced["reason"]) == ("replace", "secret never recorded")
    leftovers = [c for a, c in changes.items() if a.startswith("pod/crash-pod/api_key/backend#")]
    assert [(c["action"], c["reason"]) for c in leftovers] == [("delete", "secret never recorded")]
    text = mailctl("plan", "-f", config).stdout
    assert "pod/crash-pod/api_key/backend" in text and "secret never recorded" in text

    mailctl.apply(config)
    assert _pending_keys(sandbox) == []
    records = json.loads((mailctl.workdir / "secrets.json").read_text())
    backend = [k for k in _keys(sandbox) if k["name"] == "backend"]
    assert len(backend) == 1 and backend[0]["api_key_id"] in {r["api_key_id"] for r in records}
    assert mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0
