"""`drift --format openmetrics` over HTTP: read back with prometheus-client's own parsers, the
numbers equal the JSON report's, and `--out` replaces the file whole (node_exporter's textfile
collector must never read half a file)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from e2e_harness import load_fixture
from prometheus_client.openmetrics.parser import text_string_to_metric_families
from prometheus_client.parser import text_string_to_metric_families as text_format_families

STATES = ("changed", "missing", "undeclared", "unmanaged")


def _samples(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    """Every family's samples, parsed as OpenMetrics (the parser also checks `# EOF`, types, units)."""
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family
        out[family.name] = [(dict(s.labels), s.value) for s in family.samples]
    return out


def _by_state(samples: dict[str, list[tuple[dict[str, str], float]]]) -> dict[str, float]:
    return {labels["state"]: value for labels, value in samples["mailctl_drift_resources"]}


def _by_kind(samples: dict[str, list[tuple[dict[str, str], float]]]) -> dict[tuple[str, str], float]:
    return {(lb["state"], lb["kind"]): v for lb, v in samples["mailctl_drift_resources_by_kind"] if v}


def _drift_by_hand(sandbox: Any) -> None:
    sdk = sandbox.sdk()
    sdk.inboxes.update("acme-bot@agentmail.to", display_name="Changed by hand")
    sdk.inboxes.delete("globex-bot@agentmail.to")
    pod = next(p for p in sdk.pods.list(limit=100).pods if p.client_id == "e2e-initech")
    sdk.pods.inboxes.create(pod.pod_id, username="intruder", domain="agentmail.to")


def test_drift_metrics_equal_the_json_summary_before_and_after_drift(mailctl, sandbox, write_config):
    config = write_config(load_fixture("tenants.yaml"))
    mailctl.apply(config)

    clean = mailctl("drift", "-f", config, "--format", "openmetrics")
    assert clean.exit_code == 0, clean.output
    samples = _samples(clean.stdout)
    summary = mailctl("drift", "-f", config, "--format", "json").json()["summary"]
    assert _by_state(samples) == {state: summary[state] for state in STATES}
    assert samples["mailctl_drift_detected"] == [({}, 0)]
    assert summary["unmanaged"] > 0  # the sandbox's Default Pod: counted, never drift
    assert sum(v for (state, _), v in _by_kind(samples).items() if state == "unmanaged") == summary["unmanaged"]

    _drift_by_hand(sandbox)
    started = time.time()
    drifted = mailctl("drift", "-f", config, "--format", "openmetrics")
    finished = time.time()
    assert drifted.exit_code == 2, drifted.output
    samples = _samples(drifted.stdout)
    summary = mailctl("drift", "-f", config, "--format", "json").json()["summary"]
    assert _by_state(samples) == {state: summary[state] for state in STATES}
    assert {k: v for k, v in _by_kind(samples).items() if k[0] != "unmanaged"} == {
        ("changed", "inbox"): 1,
        ("missing", "inbox"): 1,
        ("undeclared", "inbox"): 1,
    }
    assert samples["mailctl_drift_detected"] == [({}, 1)]
    [(labels, stamp)] = samples["mailctl_drift_last_run_timestamp_seconds"]
    assert labels == {} and started <= stamp <= finished


def test_drift_metrics_are_also_prometheus_text_for_the_textfile_collector(mailctl, sandbox, write_config):
    config = write_config(load_fixture("tenants.yaml"))
    run = mailctl("drift", "-f", config, "--format", "openmetrics")
    assert run.exit_code == 2, run.output
    assert run.stdout.endswith("# EOF\n") and "} " in run.stdout
    families = {f.name: f for f in text_format_families(run.stdout)}  # text format 0.0.4, as node_exporter
    assert {f.type for f in families.values()} == {"gauge"}
    assert all(s.timestamp is None for f in families.values() for s in f.samples)  # it refuses timestamps
    states = {s.labels["state"]: s.value for s in families["mailctl_drift_resources"].samples}
    summary = mailctl("drift", "-f", config, "--format", "json").json()["summary"]
    assert states == {state: summary[state] for state in STATES} and states["missing"] == 14  # nothing applied


def test_drift_metrics_out_replaces_the_file_whole_and_keeps_it_on_error(mailctl, sandbox, write_config, tmp_path):
    config = write_config(load_fixture("tenants.yaml"))
    textfiles = tmp_path / "textfile"
    textfiles.mkdir()
    prom = textfiles / "mailctl_drift.prom"
    prom.write_text("# previous run\n")
    reader = prom.open()  # a collector reading the old file while drift writes the new one

    run = mailctl("drift", "-f", config, "--format", "openmetrics", "--out", prom)
    assert run.exit_code == 2 and run.stdout == "", run.output
    assert reader.read() == "# previous run\n"  # the old file was renamed over, never rewritten in place
    reader.close()
    assert _samples(prom.read_text())["mailctl_drift_detected"] == [({}, 1)]
    assert sorted(os.listdir(textfiles)) == ["mailctl_drift.prom"]  # no temp file left beside it

    written = prom.read_text()
    failed = mailctl("drift", "-f", config, "--format", "openmetrics", "--out", prom, key="am_not_a_key")
    assert failed.exit_code == 1, failed.output
    assert prom.read_text() == written  # an error leaves the last good metrics (their timestamp ages)
    assert sorted(os.listdir(textfiles)) == ["mailctl_drift.prom"]


def test_sharded_drift_metrics_carry_the_shard_so_files_never_collide(mailctl, sandbox, write_config, tmp_path):
    config = write_config(load_fixture("tenants.yaml"))
    totals: dict[str, float] = dict.fromkeys(STATES, 0)
    for shard in ("1/2", "2/2"):
        out = tmp_path / f"mailctl_drift_{shard.replace('/', '_')}.prom"
        run = mailctl("drift", "-f", config, "--shard", shard, "--format", "openmetrics", "--out", out)
        assert run.exit_code == 2, run.output
        samples = _samples(Path(out).read_text())
        assert {lb.get("shard") for family in samples.values() for lb, _ in family} == {shard}
        for state, value in _by_state(samples).items():
            totals[state] += value
    whole = mailctl("drift", "-f", config, "--format", "json").json()["summary"]
    assert totals == {state: whole[state] for state in STATES}


def test_narrowed_drift_metrics_carry_what_narrowed_them_so_per_tenant_files_never_collide(
    mailctl, sandbox, write_config, tmp_path
):
    """Per-tenant checks (`drift --target pod/T`) written to one textfile directory: without a
    label of their own every file held the same series, which the collector refuses."""
    config = write_config(load_fixture("tenants.yaml"))
    mailctl.apply(config)
    _drift_by_hand(sandbox)
    labels = {}
    for pod in ("pod/e2e-acme", "pod/e2e-globex"):
        run = mailctl("drift", "-f", config, "--target", pod, "--format", "openmetrics")
        assert run.exit_code == 2, run.output
        samples = _samples(run.stdout)
        labels[pod] = {lb.get("selection") for family in samples.values() for lb, _ in family}
    assert labels == {"pod/e2e-acme": {"--target pod/e2e-acme"}, "pod/e2e-globex": {"--target pod/e2e-globex"}}
    whole = _samples(mailctl("drift", "-f", config, "--format", "openmetrics").stdout)
    assert {lb.get("selection") for family in whole.values() for lb, _ in family} == {None}  # as before
    sharded = _samples(mailctl("drift", "-f", config, "--shard", "1/2", "--format", "openmetrics").stdout)
    assert {lb.get("selection") for family in sharded.values() for lb, _ in family} == {None}  # shard="1/2" says it
