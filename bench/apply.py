"""Benchmark: `mailctl apply` of N tenants vs. the same creates one by one with the official SDK.

    .venv/bin/python bench/apply.py --tenants 200          # latency 50 ms, --parallelism auto

Each tenant is a pod + a pod domain + 3 inboxes (one on that domain) + 2 pod keys. The sandbox
runs as a `mailctl sandbox serve --latency-ms L` subprocess; request counts come from its
`GET /_sandbox/stats` (API routes only, retries included). Printed: wall time, requests and 429
share of mailctl apply (default flags unless --parallelism is given), of the SDK loop (on a fresh
sandbox: POST /_sandbox/reset), their ratio (target >= 15x), and of a no-op re-plan (target:
about the pages needed to list, not one per resource).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from agentmail.api_keys import ApiKeyPermissions, CreateBearerApiKeyRequest
from bench_harness import KEY, RESOURCES_PER_TENANT, SandboxProcess, counts, run_mailctl, tenants_config


def sdk_one_by_one(sandbox: SandboxProcess, config: dict[str, Any]) -> tuple[float, int]:
    """The same creates a careful script would make with the SDK, sequentially."""
    sdk = sandbox.sdk()
    before = counts(sandbox)
    start = time.perf_counter()
    for client_id, pod in config["pods"].items():
        pod_id = sdk.pods.create(client_id=client_id, name=pod["name"]).pod_id
        for domain in pod["domains"]:
            sdk.pods.domains.create(pod_id, domain=domain)
            sdk.pods.domains.verify(pod_id, domain)  # auto mode: verified on the next read
        for address, body in pod["inboxes"].items():
            username, _, domain = address.partition("@")
            sdk.pods.inboxes.create(pod_id, username=username, domain=domain, **body)
        for name, body in pod["api_keys"].items():
            permissions = ApiKeyPermissions(**body["permissions"]) if body.get("permissions") else None
            sdk.pods.api_keys.create(pod_id, request=CreateBearerApiKeyRequest(name=name, permissions=permissions))
    return time.perf_counter() - start, (counts(sandbox) - before).requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--parallelism", default=None, help="mailctl apply --parallelism (default: its default, auto)")
    args = parser.parse_args()

    config = tenants_config(args.tenants, prefix="bench-t")
    resources = args.tenants * RESOURCES_PER_TENANT
    flags = ["--parallelism", args.parallelism] if args.parallelism else []
    with tempfile.TemporaryDirectory(prefix="mailctl-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "mailctl.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        sandbox = SandboxProcess(KEY, "--latency-ms", str(args.latency_ms))
        try:
            sandbox.reset()
            applied = run_mailctl(
                sandbox, workdir, "apply", "--auto-approve", *flags, "--secrets-out", "secrets.json", ok=(0,)
            )
            replan = run_mailctl(sandbox, workdir, "plan", "--detailed-exitcode")
            if replan.exit_code != 0:
                sys.exit("the re-plan after apply is not clean: mailctl apply did not converge")
            sandbox.reset()
            sdk_s, sdk_n = sdk_one_by_one(sandbox, config)
            if run_mailctl(sandbox, workdir, "plan", "--detailed-exitcode").exit_code != 0:
                sys.exit("the SDK loop did not build what the config declares (mailctl plan shows changes)")
        finally:
            sandbox.close()

    print(
        f"{args.tenants} tenants ({resources} resources), sandbox latency {args.latency_ms} ms, "
        f"mailctl --parallelism {args.parallelism or 'auto (default)'}"
    )
    print(f"{'':24}{'seconds':>9}{'requests':>10}{'429s':>7}")
    print(f"{'mailctl apply':24}{applied.seconds:9.2f}{applied.counts.requests:10d}{applied.counts.refused:7d}")
    print(f"{'SDK, one by one':24}{sdk_s:9.2f}{sdk_n:10d}{0:7d}")
    print(f"{'mailctl no-op re-plan':24}{replan.seconds:9.2f}{replan.counts.requests:10d}{replan.counts.refused:7d}")
    print(
        f"speed-up of apply over the SDK loop: {sdk_s / applied.seconds:.1f}x (target >= 15x); "
        f"429 share {applied.counts.share_429:.1%}"
    )
    print(
        f"no-op re-plan: {replan.counts.requests} requests for {resources} resources "
        f"({replan.counts.requests / resources:.3f} per resource)"
    )


if __name__ == "__main__":
    main()
