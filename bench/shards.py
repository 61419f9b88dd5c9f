"""Benchmark: N shards applying one config at once against one sandbox with an organisation rate limit.

    .venv/bin/python bench/shards.py --tenants 100 --shards 4 --rate-limit 20
    .venv/bin/python bench/shards.py --layout 8,10,20,10 --rate-limit 30     # issue 19's uneven case

The sandbox (`serve --rate-limit R --latency-ms L`) gives the whole organisation R requests per
second; the N `mailctl apply --shard K/N` subprocesses (default flags: --parallelism auto) share it.
Each ``--layout`` is one run: ``hash`` is --tenants tenants as the hash spreads them over --shards
shards; ``8,10,20,10`` picks tenant names so that shard k gets exactly that many (the shards
finish at different times, and the last must take up the budget the others freed). Default: both.
Printed per run: each shard's exit code and time; total wall time against the floor
accepted requests / R (goal: within 1.05x); the 429 share (goal <= 2%); and whether a re-plan of
the whole config afterwards shows no changes (goal: none).

Measured (2 shared cores, rate 20/s): hash layout 1.01-1.11x with 6.1-6.6% 429s, uneven layout
1.02-1.08x with 6.0-8.5% (was 1.02-1.03x / 10.2-10.8% and 1.20x / 10.3%). The ratio goal is met
on most runs, the 429 goal is not. What bounds the rest, from bench/pacing_sim.py (4 real Pacers
on a fake clock against the sandbox's token bucket; it reproduces these shares in a second):
- Shards that cannot see each other learn the organisation's limit only from refusals. Each
  probes past the rate it was refused at once per plateau + probe (about 3.5 s), so that a shard
  left alone takes up the budget the others freed within seconds (the ratio); each probe costs
  one or two refusals and a 1 s Retry-After pause. 4 shards at 20 requests/s: about 1 refusal a
  second, 4-5% of requests. Probing less often (longer plateaus or probes, in the simulation)
  does not lower the share and raises the uneven ratio to 1.1-1.25x.
- First contact costs 10-11 refusals: every shard has requests in flight when the bucket, full
  at the start (one second of budget), runs dry.
- The bucket's burst hides the limit: after a pause it holds a second of budget, so the rate
  accepted just after it overstates the limit (by up to 50% over a 2 s window), and the pace
  settles above it. Measuring over longer windows or since the last 429 (tried in the simulation)
  trades that for an understated share, and slower shards.
2% at 20 requests/s needs the shards to share what they learn (e.g. each announcing its accepted
rate), which they cannot today without spending requests on it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from bench_harness import (
    KEY,
    RESOURCES_PER_TENANT,
    Counts,
    SandboxProcess,
    counts,
    finish,
    run_mailctl,
    start_mailctl,
    tenants_config,
)

from mailctl.plan.shards import shard_of

GOAL_RATIO = 1.05
GOAL_429 = 0.02


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=100)
    parser.add_argument("--shards", type=int, default=4)
    parser.add_argument("--rate-limit", type=float, default=20.0)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--layout", action="append", help="hash, or tenants per shard such as 8,10,20,10 (repeatable)")
    args = parser.parse_args()
    failed = False
    for layout in args.layout or ["hash", "8,10,20,10"]:
        config, shards = _config(layout, args.tenants, args.shards)
        failed |= not _run(config, shards, args.rate_limit, args.latency_ms, layout)
    if failed:
        sys.exit(1)


def _config(layout: str, tenants: int, shards: int) -> tuple[dict[str, Any], int]:
    """The tenants config of ``layout`` and its number of shards."""
    if layout == "hash":
        return tenants_config(tenants, prefix="sh-t"), shards
    wanted = [int(n) for n in layout.split(",")]
    config = tenants_config(sum(wanted) * len(wanted) * 4, prefix="sh-t")
    left, pods = list(wanted), {}
    for name, body in config["pods"].items():
        k = shard_of(name, len(wanted)) - 1
        if left[k] > 0:
            left[k] -= 1
            pods[name] = body
    if any(left):
        sys.exit(f"--layout {layout}: not enough tenant names to fill it")
    return {**config, "pods": pods}, len(wanted)


def _run(config: dict[str, Any], shards: int, rate_limit: float, latency_ms: int, layout: str) -> bool:
    tenants = len(config["pods"])
    with tempfile.TemporaryDirectory(prefix="mailctl-bench-shards-") as tmp:
        workdir = Path(tmp)
        (workdir / "mailctl.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        sandbox = SandboxProcess(KEY, "--latency-ms", str(latency_ms), "--rate-limit", str(rate_limit))
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
                    f"{k}/{shards}",
                    "--secrets-out",
                    f"s{k}.json",
                )
                for k in range(1, shards + 1)
            ]
            results = []
            for proc in procs:
                code, rss, output, _ = finish(proc)
                results.append((code, time.perf_counter() - start, rss, output))
            wall = time.perf_counter() - start
            total: Counts = counts(sandbox) - before
            replan = run_mailctl(sandbox, workdir, "plan", "--detailed-exitcode")
        finally:
            sandbox.close()

    accepted = total.requests - total.refused
    floor = accepted / rate_limit
    print(
        f"layout {layout}: {tenants} tenants ({tenants * RESOURCES_PER_TENANT} resources) in {shards} shards, "
        f"organisation rate limit {rate_limit:g}/s, latency {latency_ms} ms"
    )
    for k, (code, seconds, rss, output) in enumerate(results, start=1):
        print(f"  shard {k}/{shards}: exit {code}, done after {seconds:.1f}s, RSS {rss:.0f} MB")
        if code != 0:
            print(output[-2000:], file=sys.stderr)
    print(f"  wall {wall:.1f}s for {total.requests} requests ({accepted} accepted, {total.refused} answered 429)")
    print(
        f"  wall / (accepted requests / rate) = {wall:.1f} / {floor:.1f} = {wall / floor:.2f}x (goal <= {GOAL_RATIO}x)"
    )
    print(f"  429 share {total.share_429:.1%} (goal <= {GOAL_429:.0%})")
    print(f"  re-plan of the whole config: {'no changes' if replan.exit_code == 0 else 'CHANGES'}")
    return all(code == 0 for code, *_ in results) and replan.exit_code == 0


if __name__ == "__main__":
    main()
