"""Benchmark: `mailctl apply` of N tenants vs. the same creates one by one with the official SDK.

    .venv/bin/python bench/apply.py --tenants 200          # latency 50 ms per request (default)

Each tenant is a pod + a pod domain + 3 inboxes (one on that domain) + 2 pod keys. The sandbox
runs as a `mailctl sandbox serve --latency-ms L` subprocess; request counts come from its
`GET /_sandbox/stats` (API routes only, retries included). Printed: wall time and requests of
mailctl apply, of the SDK loop (on a fresh sandbox: POST /_sandbox/reset), their ratio (target
>= 8x), and of a no-op re-plan (target: about the pages needed to list, not one per resource).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from agentmail.api_keys import ApiKeyPermissions, CreateBearerApiKeyRequest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from e2e_harness import SandboxProcess, mailctl_command, tenants_config  # noqa: E402

KEY = "am_bench_org_key_0123456789abcdef"


def api_requests(sandbox: SandboxProcess) -> int:
    """API requests the sandbox has answered since its last reset (control routes excluded)."""
    routes: dict[str, int] = sandbox.stats()["by_route"]
    return sum(n for route, n in routes.items() if route.split(" ", 1)[1].startswith("/v0"))


def timed_mailctl(sandbox: SandboxProcess, workdir: Path, *args: str) -> tuple[float, int, int]:
    """(seconds, API requests, exit code) of one mailctl run against ``sandbox``."""
    before = api_requests(sandbox)
    env = {**os.environ, "AGENTMAIL_API_KEY": KEY}
    start = time.perf_counter()
    done = subprocess.run([*mailctl_command(), *args, "--endpoint", sandbox.url], cwd=workdir, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 2):
        sys.exit(f"mailctl {args[0]} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed, api_requests(sandbox) - before, done.returncode


def sdk_one_by_one(sandbox: SandboxProcess, config: dict[str, Any]) -> tuple[float, int]:
    """The same creates a careful script would make with the SDK, sequentially."""
    sdk = sandbox.sdk()
    before = api_requests(sandbox)
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
    return time.perf_counter() - start, api_requests(sandbox) - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=200)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--parallelism", type=int, default=16, help="mailctl apply --parallelism")
    args = parser.parse_args()

    config = tenants_config(args.tenants, prefix="bench-t")
    resources = args.tenants * 7
    with tempfile.TemporaryDirectory(prefix="mailctl-bench-") as tmp:
        workdir = Path(tmp)
        (workdir / "mailctl.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
        sandbox = SandboxProcess(KEY, "--latency-ms", str(args.latency_ms))
        try:
            sandbox.reset()
            apply_s, apply_n, _ = timed_mailctl(sandbox, workdir, "apply", "--auto-approve", "--parallelism",
                                                str(args.parallelism), "--secrets-out", "secrets.json")
            replan_s, replan_n, replan_code = timed_mailctl(sandbox, workdir, "plan", "--detailed-exitcode")
            if replan_code != 0:
                sys.exit("the re-plan after apply is not clean: mailctl apply did not converge")
            sandbox.reset()
            sdk_s, sdk_n = sdk_one_by_one(sandbox, config)
            _, _, same = timed_mailctl(sandbox, workdir, "plan", "--detailed-exitcode")
            if same != 0:
                sys.exit("the SDK loop did not build what the config declares (mailctl plan shows changes)")
        finally:
            sandbox.close()

    print(f"{args.tenants} tenants ({resources} resources), sandbox latency {args.latency_ms} ms, "
          f"mailctl --parallelism {args.parallelism}")
    print(f"{'':24}{'seconds':>9}{'requests':>10}")
    print(f"{'mailctl apply':24}{apply_s:9.2f}{apply_n:10d}")
    print(f"{'SDK, one by one':24}{sdk_s:9.2f}{sdk_n:10d}")
    print(f"{'mailctl no-op re-plan':24}{replan_s:9.2f}{replan_n:10d}")
    print(f"speed-up of apply over the SDK loop: {sdk_s / apply_s:.1f}x (target >= 8x)")
    print(f"no-op re-plan: {replan_n} requests for {resources} resources "
          f"({replan_n / resources:.3f} per resource)")


if __name__ == "__main__":
    main()
