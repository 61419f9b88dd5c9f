"""Benchmark: N shards applying one config at once against one sandbox with an organisation rate limit.

    .venv/bin/python bench/shards.py --tenants 100 --shards 4 --rate-limit 20

The sandbox (`serve --rate-limit R --latency-ms L`) gives the whole organisation R requests per
second; the N `mailctl apply --shard K/N` subprocesses (default flags: --parallelism auto) share it.
Printed: each shard's exit code and time; total wall time against the floor requests / R (goal:
within 1.15x); the 429 share (goal <= 10%); and whether a re-plan of the whole config afterwards
shows no changes (goal: none).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import yaml
from bench_harness import (
    KEY,
    RESOURCES_PER_TENANT,
    SandboxProcess,
    counts,
    finish,
    run_mailctl,
    start_mailctl,
    tenants_config,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--rate-limit", type=float, default=20.0)
    parser.add_argument("--latency-ms", type=int, default=50)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mailctl-bench-shards-") as tmp:
        workdir = Path(tmp)
        (workdir / "mailctl.yaml").write_text(
            yaml.safe_dump(tenants_config(args.tenants, prefix="sh-t"), sort_keys=False)
        )
        sandbox = SandboxProcess(KEY, "--latency-ms", str(args.latency_ms), "--rate-limit", str(args.rate_limit))
        try:
            sandbox.reset()
            before = counts(sandbox)
            start = time.perf_counter()
            procs = [
                start_mailctl(
                    sandbox,
                    workdir,
                    "apply",
                    "--auto-approve",
                    "--shard",
                    f"{k}/{args.shards}",
                    "--secrets-out",
                    f"secrets-{k}.json",
                )
                for k in range(1, args.shards + 1)
            ]
            results = []
            for proc in procs:
                code, rss, output = finish(proc)
                results.append((code, time.perf_counter() - start, rss, output))
            wall = time.perf_counter() - start
            total = counts(sandbox) - before
            replan = run_mailctl(sandbox, workdir, "plan", "--detailed-exitcode")
        finally:
            sandbox.close()

    accepted = total.requests - total.refused
    floor = accepted / args.rate_limit
    print(
        f"{args.tenants} tenants ({args.tenants * RESOURCES_PER_TENANT} resources) in {args.shards} shards, "
        f"organisation rate limit {args.rate_limit:g}/s, latency {args.latency_ms} ms"
    )
    for k, (code, seconds, rss, output) in enumerate(results, start=1):
        print(f"  shard {k}/{args.shards}: exit {code}, done after {seconds:.1f}s, RSS {rss:.0f} MB")
        if code != 0:
            print(output[-2000:], file=sys.stderr)
    print(f"wall {wall:.1f}s for {total.requests} requests ({accepted} accepted, {total.refused} answered 429)")
    print(f"wall / (accepted requests / rate) = {wall:.1f} / {floor:.1f} = {wall / floor:.2f}x (goal <= 1.15x)")
    print(f"429 share {total.share_429:.1%} (goal <= 10%)")
    print(f"re-plan of the whole config: {'no changes' if replan.exit_code == 0 else 'CHANGES'}")
    if any(code != 0 for code, *_ in results) or replan.exit_code != 0:
        sys.exit(1)


if __name__ == "__main__":
    main()
