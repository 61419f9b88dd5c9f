"""Benchmark: apply from nothing and a no-op plan at growing sizes; is mailctl linear?

    .venv/bin/python bench/scale.py --tenants 1000 10000      # latency 50 ms (the issue's sizes)
    .venv/bin/python bench/scale.py --tenants 200 2000 --latency-ms 20   # smaller, for a quick look

For each size (on a fresh sandbox): `mailctl apply` from nothing, then a no-op `mailctl plan`,
each a subprocess (wall time, API requests, 429 share, peak RSS); and the planner alone, in
process, on the state read back (no I/O). Printed: time per resource and the ratio of each size's
per-resource apply time to the first size's (goal <= 1.2), no-op plan time and RSS (goal at
10,000 tenants: < 20 s and < 400 MB) and planner time (goal < 2 s).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml
from bench_harness import KEY, RESOURCES_PER_TENANT, SandboxProcess, run_mailctl, tenants_config

from mailctl.api.client import AgentMailClient
from mailctl.api.reader import StateReader
from mailctl.config import load
from mailctl.plan import planner


def planner_seconds(sandbox: SandboxProcess, config_path: Path) -> float:
    desired = load([str(config_path)])
    with AgentMailClient(sandbox.url, KEY) as client:
        actual = StateReader(client).read(desired)
    start = time.perf_counter()
    plan = planner.plan(desired, actual)
    elapsed = time.perf_counter() - start
    if plan.has_changes:
        raise SystemExit("the planner found changes after apply")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--threads", type=int, default=48, help="sandbox serve --threads")
    args = parser.parse_args()

    rows = []
    for tenants in args.tenants:
        resources = tenants * RESOURCES_PER_TENANT
        with tempfile.TemporaryDirectory(prefix="mailctl-bench-scale-") as tmp:
            workdir = Path(tmp)
            config_path = workdir / "mailctl.yaml"
            config_path.write_text(yaml.safe_dump(tenants_config(tenants, prefix="sc-t"), sort_keys=False))
            sandbox = SandboxProcess(
                KEY,
                "--latency-ms",
                str(args.latency_ms),
                "--threads",
                str(args.threads),
                "--db",
                os.path.join(tmp, "sandbox.db"),
            )
            try:
                sandbox.reset()
                applied = run_mailctl(
                    sandbox, workdir, "apply", "--auto-approve", "--secrets-out", "secrets.json", ok=(0,)
                )
                noop = run_mailctl(sandbox, workdir, "plan", "--detailed-exitcode", ok=(0,))
                planning = planner_seconds(sandbox, config_path)
            finally:
                sandbox.close()
        rows.append((tenants, resources, applied, noop, planning))
        print(f"{tenants} tenants done: apply {applied.seconds:.1f}s, no-op plan {noop.seconds:.1f}s", flush=True)

    base = rows[0][2].seconds / rows[0][1]
    print(f"\nsandbox latency {args.latency_ms} ms; mailctl default flags (--parallelism auto)")
    print(
        f"{'tenants':>8}{'resources':>10} | {'apply s':>8}{'ms/res':>7}{'ratio':>6}{'requests':>9}{'429%':>6}"
        f"{'RSS MB':>7} | {'no-op plan s':>12}{'requests':>9}{'RSS MB':>7} | {'planner s':>9}"
    )
    for tenants, resources, applied, noop, planning in rows:
        per = applied.seconds / resources
        print(
            f"{tenants:8d}{resources:10d} | {applied.seconds:8.1f}{per * 1000:7.2f}{per / base:6.2f}"
            f"{applied.counts.requests:9d}{applied.counts.share_429:6.1%}{applied.rss_mb:7.0f} | "
            f"{noop.seconds:12.1f}{noop.counts.requests:9d}{noop.rss_mb:7.0f} | {planning:9.2f}"
        )
    print(
        "goals: ratio <= 1.2 (per-resource apply time vs the first size); at 10,000 tenants the no-op "
        "plan < 20 s and < 400 MB, the planner < 2 s"
    )


if __name__ == "__main__":
    main()
