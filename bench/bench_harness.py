"""What the benchmarks share: a sandbox subprocess, timed mailctl runs (wall time, API requests,
429s, peak RSS of the mailctl process), and the tenants config of the e2e suite."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
from e2e_harness import SandboxProcess, spawn_mailctl, tenants_config  # noqa: E402

KEY = "am_bench_org_key_0123456789abcdef"

# Processes are timed as installed: byte-compiled once, as pip leaves a package. A machine that sets
# PYTHONDONTWRITEBYTECODE compiles every module again in every process (0.2 s of each mailctl start).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
RESOURCES_PER_TENANT = 7  # a pod, a pod domain, 3 inboxes, 2 pod keys

__all__ = ["KEY", "RESOURCES_PER_TENANT", "Counts", "Run", "SandboxProcess", "counts", "run_mailctl", "tenants_config"]


@dataclass(frozen=True)
class Counts:
    """API requests the sandbox answered (control routes excluded) and how many were 429s."""

    requests: int
    refused: int

    def __sub__(self, other: Counts) -> Counts:
        return Counts(self.requests - other.requests, self.refused - other.refused)

    @property
    def share_429(self) -> float:
        return self.refused / self.requests if self.requests else 0.0


def counts(sandbox: SandboxProcess) -> Counts:
    stats: dict[str, Any] = sandbox.stats()
    routes: dict[str, int] = stats["by_route"]
    requests = sum(n for route, n in routes.items() if route.split(" ", 1)[1].startswith("/v0"))
    return Counts(requests, int(stats.get("by_status", {}).get("429", 0)))


@dataclass(frozen=True)
class Run:
    seconds: float
    counts: Counts
    exit_code: int
    rss_mb: float
    output: str
    cpu_s: float = 0.0  # user + system CPU time of the mailctl process


def start_mailctl(sandbox: SandboxProcess, workdir: Path, *args: str) -> subprocess.Popen[str]:
    return spawn_mailctl([*args, "--endpoint", sandbox.url], workdir, {**os.environ, "AGENTMAIL_API_KEY": KEY})


def finish(proc: subprocess.Popen[str]) -> tuple[int, float, str, float]:
    """(exit code, peak RSS in MB of that process, its output, its CPU seconds); os.wait4
    measures just this child."""
    output = proc.stdout.read() if proc.stdout is not None else ""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, usage.ru_maxrss / 1024, output, usage.ru_utime + usage.ru_stime


def run_mailctl(sandbox: SandboxProcess, workdir: Path, *args: str, ok: tuple[int, ...] = (0, 2)) -> Run:
    before = counts(sandbox)
    start = time.perf_counter()
    code, rss, output, cpu = finish(start_mailctl(sandbox, workdir, *args))
    elapsed = time.perf_counter() - start
    if code not in ok:
        sys.exit(f"mailctl {args[0]} failed ({code}):\n{output[-3000:]}")
    return Run(elapsed, counts(sandbox) - before, code, rss, output, cpu)
