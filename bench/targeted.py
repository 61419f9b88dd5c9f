"""Benchmark: what a pull request's plan costs in API requests (issue 19 points 1 and 5).

    .venv/bin/python bench/targeted.py                       # 2,000 tenants, 2 inboxes each
    .venv/bin/python bench/targeted.py --tenants 10000

A fleet of TENANTS tenants (one template, a one-line-per-tenant tenants file in a git
repository), made directly through the API on a sandbox subprocess, then three `mailctl plan`
processes, each counted by the sandbox's stats (the edit renames one tenant's company: an update of
its inboxes):

- `--target pod/<one tenant>` after that tenant's row changed (goal: ceil(pods/100) + 15);
- `--changed-since HEAD` for the same edit (the same goal: it targets that one pod);
- the full plan, for comparison (it must see the same change, and reads everything);
- `--changed-since HEAD` after a template edit as well (every tenant's inboxes renamed): it
  targets every tenant by address, so it must cost no more requests than the full plan, and its
  time is printed beside the full plan's (a target per tenant once cost tenants x resources glob
  matches: minutes at 10,000);
- `apply --changed-since HEAD`, last (it makes the change): the same budget, plus its two lock
  requests (the lock pod made and deleted) and its two updates. The lock's look for shard locks
  is its plan's pod listing, so the pods are listed once.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml
from bench_harness import KEY, SandboxProcess, run_mailctl

from mailctl.api.client import AgentMailClient

TEMPLATE = {
    "version": 1,
    "kind": "template",
    "name": "tenant",
    "parameters": {"company": {"type": "string", "required": True}},
    "pod": {
        "client_id": "bt-${tenant}",
        "name": "${tenant}",
        "inboxes": {
            "${tenant}-a@agentmail.to": {"display_name": "${company}"},
            "${tenant}-b@agentmail.to": {"display_name": "${company}"},
        },
    },
}


EDITED_TEMPLATE = yaml.safe_load(
    yaml.safe_dump(TEMPLATE).replace("display_name: ${company}", "display_name: ${company} Desk")
)


def tenant(i: int) -> str:
    return f"t{i:05d}"


def seed(url: str, tenants: int) -> None:
    """Each tenant's pod and its two inboxes, as an apply would have made them."""

    def make(i: int) -> None:
        with_name = tenant(i)
        pod = client.post("/v0/pods", {"client_id": f"bt-{with_name}", "name": with_name}, idempotent=True)
        for suffix in ("a", "b"):
            client.post(
                f"/v0/pods/{pod['pod_id']}/inboxes",
                {
                    "username": f"{with_name}-{suffix}",
                    "domain": "agentmail.to",
                    "client_id": f"bt-{with_name}-{suffix}",
                },
                idempotent=True,
            )

    with AgentMailClient(url, KEY) as client, ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(make, range(tenants)))


def write_tenants(repo: Path, tenants: int, renamed: int | None = None) -> None:
    rows = [f"  {tenant(i)}: {{company: Co {i}{' (renamed)' if i == renamed else ''}}}\n" for i in range(tenants)]
    (repo / "tenants.yaml").write_text("version: 1\ntemplate: tenant\ntenants:\n" + "".join(rows))


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenants", type=int, default=2000)
    args = parser.parse_args()
    edited = args.tenants // 2
    with tempfile.TemporaryDirectory(prefix="mailctl-bench-targeted-") as tmp:
        repo = Path(tmp) / "repo"
        repo.mkdir()
        (repo / "template.yaml").write_text(yaml.safe_dump(TEMPLATE, sort_keys=False))
        write_tenants(repo, args.tenants)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "fleet")
        write_tenants(repo, args.tenants, renamed=edited)  # the pull request: one tenant's row
        sandbox = SandboxProcess(KEY, "--db", str(Path(tmp) / "sandbox.db"), "--threads", "16")
        try:
            sandbox.reset()
            seed(sandbox.url, args.tenants)
            files = ("-f", "template.yaml", "-f", "tenants.yaml")
            with AgentMailClient(sandbox.url, KEY) as client:
                pods = len(client.list_all("/v0/pods", "pods"))
            budget = math.ceil(pods / 100) + 15
            runs = {
                "--target": run_mailctl(sandbox, repo, "plan", *files, "--target", f"pod/bt-{tenant(edited)}"),
                "--changed-since": run_mailctl(sandbox, repo, "plan", *files, "--changed-since", "HEAD"),
                "full plan": run_mailctl(sandbox, repo, "plan", *files),
            }
            (repo / "template.yaml").write_text(yaml.safe_dump(EDITED_TEMPLATE, sort_keys=False))
            runs["template edit"] = run_mailctl(sandbox, repo, "plan", *files, "--changed-since", "HEAD")
            (repo / "template.yaml").write_text(yaml.safe_dump(TEMPLATE, sort_keys=False))
            runs["apply"] = run_mailctl(sandbox, repo, "apply", *files, "--changed-since", "HEAD", "--auto-approve")
        finally:
            sandbox.close()
    print(f"\n{args.tenants} tenants ({pods} pods listed), one tenant's row edited; budget {budget} requests")
    print(f"{'plan':>16} | {'requests':>8} {'seconds':>8}  within budget")
    for label, run in runs.items():
        shows = f"pod/bt-{tenant(edited)}" in run.output
        allowed = budget + (2 + 2 if label == "apply" else 0)  # the lock pod made and deleted, two updates
        if label == "template edit":
            allowed = runs["full plan"].counts.requests
        verdict = "yes" if run.counts.requests <= allowed else "no" if label != "full plan" else "-"
        missing = "" if shows else "  (change MISSING)"
        print(f"{label:>16} | {run.counts.requests:>8} {run.seconds:>8.1f}  {verdict}{missing}")


if __name__ == "__main__":
    main()
