"""Injected faults (before the write, and after it committed) and a rate limit: apply still converges,
and never leaves a duplicate behind or a key whose secret was lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from e2e_harness import Inventory, SandboxProcess, declared_inventory, tenants_config, watched_sandbox

FAULT_RATE, SEED, RATE_LIMIT = "0.2", "20240611", "40"


@pytest.fixture(scope="module")
def faulty(server: SandboxProcess, secret_watch) -> Iterator[SandboxProcess]:
    with watched_sandbox(
        secret_watch, "faults", server.api_key, "--fault-rate", FAULT_RATE, "--seed", SEED, "--rate-limit", RATE_LIMIT
    ) as process:
        yield process


@pytest.mark.parametrize("mode", ["before", "after"])
def test_apply_converges_under_faults_and_rate_limit_without_duplicates(mode, faulty, mailctl, write_config):
    faulty.reset()
    faulty.configure(fault_mode=mode)
    mailctl.sandbox = faulty
    sdk = faulty.sdk()
    baseline = Inventory.read(sdk)
    data = tenants_config(6)
    data["api_keys"] = {"org-ci": {}}
    config = write_config(data)

    runs = []
    for _ in range(4):
        run = mailctl("apply", "-f", config, "--auto-approve", "--parallelism", "8", "--secrets-out", "secrets.json")
        runs.append(run.exit_code)
        if run.exit_code == 0 and mailctl("plan", "-f", config, "--detailed-exitcode").exit_code == 0:
            break
    assert runs[-1] == 0 and len(runs) <= 3, f"apply exit codes per run: {runs}"
    faults = faulty.stats()["faults"]
    assert faults[mode] > 0, faults  # the run really met injected faults

    now = Inventory.read(sdk)
    assert now.duplicates() == {}
    made = now.without(baseline)
    expected = declared_inventory(data)
    assert (made.pods, made.inboxes, made.domains, made.keys) == (
        expected.pods,
        expected.inboxes,
        expected.domains,
        expected.keys,
    )

    stored = {r["api_key_id"] for r in mailctl.watch.secrets_file(mailctl.workdir / "secrets.json")}
    existing = {k.api_key_id for k in sdk.api_keys.list(limit=100).api_keys if k.name != "sandbox bootstrap key"}
    assert existing <= stored, "a managed key exists whose secret was never stored"
