"""N shards started together, sharing organisation-level resources, converge in their first run
(issue 16 point 8): shard 1 owns the organisation level, the others wait (bounded, reported) for
what they need from it, and shard 1 waits for the pods its organisation webhook names."""

from __future__ import annotations

import re
import threading
from typing import Any

from e2e_harness import apply_shards_at_once, start_shard

from mailctl.plan.shards import shard_of

SHARDS = 3
ORG_DOMAIN = "shared.example.com"


def shared_config(tenants: int, prefix: str) -> dict[str, Any]:
    pods = {
        f"{prefix}{i:02d}": {
            "name": f"Tenant {i}",
            "inboxes": {f"{prefix}{i:02d}@{ORG_DOMAIN}": {}, f"{prefix}{i:02d}-bot@agentmail.to": {}},
        }
        for i in range(tenants)
    }
    return {
        "version": 1,
        "manage": {"pods": {"client_id_prefix": prefix}},
        "domains": {ORG_DOMAIN: {}},
        "api_keys": {"org-reader": {"permissions": {"inbox_read": True}}},
        "webhooks": {
            "audit": {
                "url": "https://hooks.example.com/audit",
                "event_types": ["message.received"],
                "pods": sorted(pods),  # names pods of every shard
            }
        },
        "lists": {"receive": {"block": ["spam.example"]}},
        "pods": pods,
    }


def _changes_per_shard(mailctl: Any, config: Any) -> dict[int, int]:
    """How many changes each shard's plan holds (on a fresh organisation: one step each)."""
    return {k: len(mailctl.plan_json(config, "--shard", f"{k}/{SHARDS}")["changes"]) for k in range(1, SHARDS + 1)}


def _refused_as_unprocessable(output: str) -> bool:
    """An API 422 in the output (never the digits inside an id such as a pod's UUID)."""
    return re.search(r"(?<![0-9A-Za-z-])422(?![0-9A-Za-z-])", output) is not None


def test_three_shards_started_together_with_shared_organisation_resources_all_succeed_first_time(
    sandbox, mailctl, write_config
):
    prefix = "shr-"
    config_data = shared_config(6, prefix)
    owners = {shard_of(pod, SHARDS) for pod in config_data["pods"]}
    assert len(owners) > 1, "the tenants must spread over several shards for this test to mean anything"
    config = write_config(config_data)
    own_changes = _changes_per_shard(mailctl, config)
    waiting = {k: f"Waiting up to 90s for domain/{ORG_DOMAIN} " for k in owners if k > 1}
    results = _apply_once_others_wait(config, sandbox, mailctl.workdir, waiting, last=1, wait="90")
    for secrets in mailctl.workdir.glob("secrets-*.json"):
        mailctl.watch.secrets_file(secrets)
    for k, (code, output) in enumerate(results, start=1):
        mailctl.watch.output(f"mailctl apply --shard {k}/{SHARDS}", output)
        assert code == 0, f"shard {k}/{SHARDS}:\n{output}"
        assert not _refused_as_unprocessable(output) and "FAILED" not in output
        # Each shard counts its own changes as done, never the organisation domain shard 1 made.
        assert f"Apply complete! {own_changes[k]} done," in output, output
        if k > 1 and k in owners:
            assert f"domain/{ORG_DOMAIN}: created" not in output
            assert f"domain/{ORG_DOMAIN}: found, made by shard 1/3" in output
    assert f"domain/{ORG_DOMAIN}: created" in results[0][1]
    # Every declared resource exists: the whole config plans clean.
    final = mailctl("plan", "-f", config, "--detailed-exitcode")
    assert final.exit_code == 0, final.output


def test_a_shard_whose_organisation_domain_never_appears_defers_instead_of_failing(sandbox, mailctl, write_config):
    prefix = "shd-"
    config_data = shared_config(4, prefix)
    config = write_config(config_data)
    other = next(k for k in range(2, SHARDS + 1) if any(shard_of(p, SHARDS) == k for p in config_data["pods"]))
    run = mailctl("apply", "-f", config, "--auto-approve", "--shard", f"{other}/{SHARDS}", "--wait-for-shards", "0")
    assert run.exit_code == 1, run.output  # deferred work exits 1 (never a failure)
    assert "FAILED" not in run.output and not _refused_as_unprocessable(run.output)
    assert f"waits for domain/{ORG_DOMAIN}" in run.output and "which shard 1/3 creates" in run.output
    assert "Deferred:" in run.stdout
    allowed = mailctl(
        "apply",
        "-f",
        config,
        "--auto-approve",
        "--shard",
        f"{other}/{SHARDS}",
        "--wait-for-shards",
        "0",
        "--allow-deferred",
    )
    assert allowed.exit_code == 0, allowed.output


def test_a_shard_left_waiting_counts_its_own_changes_and_says_to_apply_the_other_shard(sandbox, mailctl, write_config):
    config_data = shared_config(4, "shw-")
    config = write_config(config_data)
    other = next(k for k in range(2, SHARDS + 1) if any(shard_of(p, SHARDS) == k for p in config_data["pods"]))
    run = mailctl("apply", "-f", config, "--auto-approve", "--shard", f"{other}/{SHARDS}", "--wait-for-shards", "0")
    assert run.exit_code == 1, run.output
    inboxes_on_the_domain = sum(1 for p in config_data["pods"] if shard_of(p, SHARDS) == other)
    # The domain is shard 1's create, not one of this shard's changes: it is not counted as one.
    assert f" {inboxes_on_the_domain} deferred," in run.stdout
    assert f"create domain/{ORG_DOMAIN}" not in run.stdout
    assert f"domain/{ORG_DOMAIN}" in run.stdout and "shard 1/3" in run.stdout
    # The remedy is to apply shard 1, not DNS: the domain does not even exist yet.
    assert "mailctl dns" not in run.stderr and "DNS" not in run.stderr
    assert f"{inboxes_on_the_domain} change(s) deferred" in run.stderr and "shard 1/3" in run.stderr


# -- An organisation webhook subscribed to an inbox (or pod) another shard creates ---------------

INBOX_OF_SHARD_3 = "t-01-a@agentmail.to"  # t-01 is in shard 3 of 3


def inbox_webhook_config() -> dict[str, Any]:
    assert shard_of("t-01", SHARDS) == 3
    return {
        "version": 1,
        "manage": {"pods": {"client_id_prefix": "t-"}},
        "webhooks": {
            "audit": {
                "url": "https://hooks.example.com/audit",
                "event_types": ["message.received"],
                "inboxes": [INBOX_OF_SHARD_3],
            }
        },
        "pods": {"t-01": {"name": "Tenant 1", "inboxes": {INBOX_OF_SHARD_3: {}}}},
    }


def test_shards_started_together_converge_when_a_webhook_names_an_inbox_of_another_shards_new_pod(
    sandbox, mailctl, write_config
):
    config = write_config(inbox_webhook_config())
    results = apply_shards_at_once(config, sandbox, mailctl.workdir, SHARDS, "--wait-for-shards", "60", timeout=120)
    for k, (code, output) in enumerate(results, start=1):
        mailctl.watch.output(f"mailctl apply --shard {k}/{SHARDS}", output)
        assert code == 0, f"shard {k}/{SHARDS}:\n{output}"
        assert "FAILED" not in output and "Failed:" not in output and "Skipped:" not in output
    final = mailctl("plan", "-f", config, "--detailed-exitcode")
    assert final.exit_code == 0, final.output


def test_a_shard_waiting_in_vain_for_an_inbox_in_another_shards_new_pod_defers_never_fails(
    sandbox, mailctl, write_config
):
    config = write_config(inbox_webhook_config())
    run = mailctl("apply", "-f", config, "--auto-approve", "--shard", f"1/{SHARDS}", "--wait-for-shards", "0")
    assert run.exit_code == 1, run.output  # deferred, never failed
    assert "FAILED" not in run.output and "Failed:" not in run.stdout and "Skipped:" not in run.stdout
    assert "Waited for (made by another shard):" in run.stdout
    assert f"pod/t-01/inbox/{INBOX_OF_SHARD_3}" in run.stdout and "shard 3/3" in run.stdout
    assert "webhook/audit" in run.stdout and " 1 deferred," in run.stdout  # its one change, deferred
    assert "1 change(s) deferred" in run.stderr and "shard 3/3" in run.stderr


def test_a_shard_waits_for_an_inbox_another_shard_adds_to_a_pod_that_exists(sandbox, mailctl, write_config):
    data = inbox_webhook_config()
    pod_only = {**data, "webhooks": {}, "pods": {"t-01": {"name": "Tenant 1"}}}
    mailctl.apply(write_config(pod_only, "pod.yaml"))
    config = write_config(data)
    waiting = mailctl("apply", "-f", config, "--auto-approve", "--shard", f"1/{SHARDS}", "--wait-for-shards", "0")
    assert waiting.exit_code == 1, waiting.output
    assert "FAILED" not in waiting.output and "Failed:" not in waiting.stdout
    assert "Waited for (made by another shard):" in waiting.stdout and " 1 deferred," in waiting.stdout
    mailctl.apply(config, "--shard", f"3/{SHARDS}")
    mailctl.apply(config, "--shard", f"1/{SHARDS}", "--wait-for-shards", "0")
    final = mailctl("plan", "-f", config, "--detailed-exitcode")
    assert final.exit_code == 0, final.output


def test_a_shard_reports_another_shards_pod_it_waited_for_as_found_never_as_its_own_create(
    sandbox, mailctl, write_config
):
    assert shard_of("t-02", SHARDS) == 1
    data = inbox_webhook_config()
    audit = {k: v for k, v in data["webhooks"]["audit"].items() if k != "inboxes"}
    data["webhooks"]["audit"] = {**audit, "pods": ["t-01"]}
    data["pods"]["t-02"] = {"name": "Tenant 2", "inboxes": {"t-02-a@agentmail.to": {}}}
    config = write_config(data)
    own_changes = _changes_per_shard(mailctl, config)
    assert own_changes == {1: 3, 2: 0, 3: 2}
    waiting = {1: "Waiting up to 60s for pod/t-01 "}
    results = _apply_once_others_wait(config, sandbox, mailctl.workdir, waiting, last=3, wait="60")
    for k, (code, output) in enumerate(results, start=1):
        mailctl.watch.output(f"mailctl apply --shard {k}/{SHARDS}", output)
        assert code == 0, f"shard {k}/{SHARDS}:\n{output}"
    first, third = results[0][1], results[2][1]
    assert "pod/t-01: created" not in first and "pod/t-01: created" in third
    assert "Waited for (made by another shard):\n  pod/t-01: found, made by shard 3/3\n" in first
    assert "Apply complete! 3 done, 0 failed, 0 skipped, 0 deferred, 0 not started; " in first
    assert "waited for 1 made by another shard, 1 found." in first
    assert "Apply complete! 2 done, 0 failed, 0 skipped, 0 deferred, 0 not started." in third


def _apply_once_others_wait(
    config, sandbox, workdir, waiting: dict[int, str], last: int, wait: str
) -> list[tuple[int, str]]:
    """Every shard but ``last`` started together, ``last`` once each shard K of ``waiting`` printed
    ``waiting[K]`` (it waits for what ``last`` makes). Started all at once, ``last`` sometimes
    made it before the others read the organisation, and then nothing was waited for."""
    runs = {
        k: start_shard(config, sandbox, workdir, k, SHARDS, "--wait-for-shards", wait)
        for k in range(1, SHARDS + 1)
        if k != last
    }
    lines: dict[int, list[str]] = {k: [] for k in runs}
    seen = {k: threading.Event() for k in runs}

    def read(k: int) -> None:
        stdout = runs[k].stdout
        assert stdout is not None
        for line in stdout:
            lines[k].append(line)
            if k in waiting and waiting[k] in line:
                seen[k].set()
        seen[k].set()  # ended without waiting: the caller's assertions say so

    readers = [threading.Thread(target=read, args=(k,)) for k in runs]
    for reader in readers:
        reader.start()
    for k in waiting:
        assert seen[k].wait(90), f"shard {k} neither waited nor ended"
    runs[last] = start_shard(config, sandbox, workdir, last, SHARDS, "--wait-for-shards", wait)
    last_output = runs[last].communicate(timeout=180)[0]
    for reader in readers:
        reader.join(180)
    results = []
    for k in range(1, SHARDS + 1):
        runs[k].wait(10)
        results.append((runs[k].returncode, last_output if k == last else "".join(lines[k])))
    return results


def test_a_shard_waiting_in_vain_for_a_pod_and_its_inbox_counts_neither_as_its_own(sandbox, mailctl, write_config):
    data = inbox_webhook_config()
    data["webhooks"]["audit"] = {**data["webhooks"]["audit"], "pods": ["t-01"]}
    config = write_config(data)
    run = mailctl("apply", "-f", config, "--auto-approve", "--shard", f"1/{SHARDS}", "--wait-for-shards", "0")
    assert run.exit_code == 1, run.output
    assert "FAILED" not in run.output and " 1 deferred," in run.stdout
    waited = run.stdout.split("Waited for (made by another shard):\n", 1)[1].split("Deferred:", 1)[0]
    assert "pod/t-01: not created yet" in waited and f"pod/t-01/inbox/{INBOX_OF_SHARD_3}: waits for" in waited
    assert "1 change(s) deferred" in run.stderr
