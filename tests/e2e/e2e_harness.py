"""The sandbox as a real `mailctl sandbox serve` subprocess, the official SDK pointed at it, and an
inventory of what exists, read only through the SDK. Shared by the e2e suite and bench/apply.py.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from agentmail import AgentMail, AgentMailEnvironment

FIXTURES = Path(__file__).parent / "fixtures"
LISTENING = re.compile(r"AgentMail sandbox listening on (http://\S+)")
# The e2e sandbox's org key, here (not in conftest.py) so tests can import it whichever test
# directories one pytest run collects. Also a canary: it must never be printed.
ORG_KEY = "am_e2e_org_key_" + secrets.token_hex(12)


def mailctl_command() -> list[str]:
    """The installed `mailctl` console script (next to this interpreter), else the module."""
    script = Path(sys.executable).with_name("mailctl")
    if script.exists():
        return [str(script)]
    found = shutil.which("mailctl")
    if found:
        return [found]
    return [sys.executable, "-c", "from mailctl.cli.main import main; main()"]


def apply_shards_at_once(
    config: Path, sandbox: SandboxProcess, workdir: Path, count: int, *extra: str, timeout: float = 120
) -> list[tuple[int, str]]:
    """``apply --shard K/count`` for every K, started together as separate processes (each with its
    own secrets file ``secrets-K.json`` in ``workdir``); (exit code, output) of each, in K order."""
    runs = [start_shard(config, sandbox, workdir, k, count, *extra) for k in range(1, count + 1)]
    outputs = [run.communicate(timeout=timeout)[0] for run in runs]
    return [(run.returncode, output) for run, output in zip(runs, outputs, strict=True)]


def start_shard(
    config: Path, sandbox: SandboxProcess, workdir: Path, k: int, count: int, *extra: str
) -> subprocess.Popen[str]:
    """``apply --shard K/count`` started as its own process (stdout and stderr together)."""
    env = {"AGENTMAIL_API_KEY": sandbox.api_key, "PATH": "/usr/bin:/bin"}
    args = ["apply", "-f", str(config), "--auto-approve", "--shard", f"{k}/{count}"]
    return spawn_mailctl([*args, "--secrets-out", f"secrets-{k}.json", "--endpoint", sandbox.url, *extra], workdir, env)


def spawn_mailctl(args: list[str], workdir: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """``mailctl ARGS`` started in ``workdir``: its stdout and stderr together, no stdin."""
    return subprocess.Popen(
        [*mailctl_command(), *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        stdin=subprocess.DEVNULL,
    )


class SandboxProcess:
    """`mailctl sandbox serve --port 0` in a subprocess; ``url`` once it listens, ``stop()`` ends it."""

    def __init__(self, api_key: str, *flags: str, startup_timeout: float = 20.0):
        self.api_key = api_key
        self._dir = tempfile.TemporaryDirectory(prefix="mailctl-e2e-sandbox-")
        self._out = Path(self._dir.name) / "stdout"
        self._err = Path(self._dir.name) / "stderr"
        with self._out.open("w") as out, self._err.open("w") as err:
            self.proc = subprocess.Popen(
                [*mailctl_command(), "sandbox", "serve", "--port", "0", "--api-key", api_key, *flags],
                stdout=out,
                stderr=err,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        self.url = self._wait_listening(startup_timeout)
        self.http = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)

    def _wait_listening(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = LISTENING.search(self._out.read_text())
            if found:
                return found.group(1)
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the sandbox did not start: {self.output()}")

    def control(self, method: str, path: str, json: Any = None) -> Any:
        for _ in range(20):  # the control API shares the key's rate limit
            response = self.http.request(method, f"/_sandbox/{path}", json=json)
            if response.status_code != 429:
                break
            time.sleep(float(response.headers.get("Retry-After", "1")))
        response.raise_for_status()
        return response.json() if response.content else None

    def reset(self) -> None:
        self.control("POST", "reset")

    def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = self.control("GET", "stats")
        return result

    def configure(self, **knobs: Any) -> None:
        self.control("PATCH", "config", knobs)

    def sdk(self) -> AgentMail:
        return AgentMail(
            api_key=self.api_key, environment=AgentMailEnvironment(http=self.url, websockets="ws://unused")
        )

    def output(self) -> str:
        """Everything the server printed (stdout and stderr)."""
        return self._out.read_text() + self._err.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if hasattr(self, "http"):
            self.http.close()

    def close(self) -> None:
        self.stop()
        self._dir.cleanup()


@contextmanager
def watched_sandbox(watch: Any, label: str, api_key: str, *flags: str) -> Iterator[SandboxProcess]:
    """A ``mailctl sandbox serve`` subprocess with ``flags``; once it stops, everything it printed
    goes through ``watch`` (the session's secret watch), labelled ``label``."""
    process = SandboxProcess(api_key, *flags)
    try:
        yield process
    finally:
        process.stop()
        watch.output(f"mailctl sandbox serve{f' ({label})' if label else ''}", process.output())
        process.close()


# ---------------------------------------------------------------------------------------------
# What exists, as the official SDK sees it


def _pages(fetch: Any, items: str) -> list[Any]:
    out, token = [], None
    while True:
        page = fetch(limit=100, page_token=token) if token else fetch(limit=100)
        out.extend(getattr(page, items))
        token = page.next_page_token
        if not token:
            return out


@dataclass
class Inventory:
    """Every pod, inbox, domain and bearer key, named the way a config names them."""

    pods: list[tuple[str, str]] = field(default_factory=list)  # (client_id or pod_id, name)
    inboxes: list[tuple[str, str]] = field(default_factory=list)  # (pod, inbox_id)
    domains: list[tuple[str, str]] = field(default_factory=list)  # (pod or "", domain)
    keys: list[tuple[str, str, str]] = field(default_factory=list)  # (pod or "", inbox or "", name)
    pod_ids: dict[str, str] = field(default_factory=dict)  # pod -> pod_id

    @classmethod
    def read(cls, client: AgentMail) -> Inventory:
        inv = cls()
        pods = _pages(client.pods.list, "pods")
        name_of = {p.pod_id: (p.client_id or p.pod_id) for p in pods}
        inv.pods = sorted((name_of[p.pod_id], p.name) for p in pods)
        inv.pod_ids = {name_of[p.pod_id]: p.pod_id for p in pods}
        inv.inboxes = sorted(
            (name_of.get(i.pod_id, i.pod_id), i.inbox_id) for i in _pages(client.inboxes.list, "inboxes")
        )
        inv.domains = sorted(
            (name_of.get(d.pod_id, d.pod_id) if d.pod_id else "", d.domain)
            for d in _pages(client.domains.list, "domains")
        )
        inv.keys = sorted(
            (name_of.get(k.pod_id, k.pod_id) if k.pod_id else "", k.inbox_id or "", k.name)
            for k in _pages(client.api_keys.list, "api_keys")
            if getattr(k, "type", "bearer") == "bearer"
        )
        return inv

    def without(self, baseline: Inventory) -> Inventory:
        """What is here and not in ``baseline`` (e.g. the Default Pod and the bootstrap key)."""
        return Inventory(
            pods=_minus(self.pods, baseline.pods),
            inboxes=_minus(self.inboxes, baseline.inboxes),
            domains=_minus(self.domains, baseline.domains),
            keys=_minus(self.keys, baseline.keys),
            pod_ids=self.pod_ids,
        )

    def duplicates(self) -> dict[str, list[Any]]:
        """Anything that exists twice: pods by client_id, inboxes, domains, keys by (scope, name)."""
        out = {}
        for what, rows in (
            ("pods", [p for p, _ in self.pods]),
            ("inboxes", [i for _, i in self.inboxes]),
            ("domains", [d.lower() for _, d in self.domains]),
            ("keys", self.keys),
        ):
            repeated = [row for row, n in Counter(rows).items() if n > 1]
            if repeated:
                out[what] = repeated
        return out


def _minus(rows: list[Any], baseline: list[Any]) -> list[Any]:
    left = Counter(rows) - Counter(baseline)
    return sorted(left.elements())


# ---------------------------------------------------------------------------------------------
# Configs and plans


def load_fixture(name: str) -> dict[str, Any]:
    """A config from tests/e2e/fixtures as a dict, for a test to change and write back."""
    data: dict[str, Any] = yaml.safe_load((FIXTURES / name).read_text())
    return data


def changes_by_address(plan: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["address"]: c for c in plan["changes"]}


def actions(plan: dict[str, Any]) -> dict[str, str]:
    return {c["address"]: c["action"] for c in plan["changes"]}


def tenants_config(count: int, prefix: str = "e2e-t") -> dict[str, Any]:
    """``count`` tenants, each a pod + pod domain + 3 inboxes (one on that domain) + 2 pod keys."""
    pods = {}
    for i in range(count):
        domain = f"{prefix}{i:03d}.mail.test"
        pods[f"{prefix}{i:03d}"] = {
            "name": f"Tenant {i}",
            "domains": {domain: {}},
            "inboxes": {
                f"support@{domain}": {"display_name": f"Support {i}"},
                f"{prefix}{i:03d}-bot@agentmail.to": {"metadata": {"tenant": str(i)}},
                f"{prefix}{i:03d}-ops@agentmail.to": {},
            },
            "api_keys": {"backend": {}, "reader": {"permissions": {"inbox_read": True, "message_read": True}}},
        }
    return {"version": 1, "manage": {"pods": {"client_id_prefix": prefix}}, "pods": pods}


def declared_inventory(config: dict[str, Any]) -> Inventory:
    """What applying ``config`` (pods, their domains, inboxes, keys; org domains and keys) creates."""
    inv = Inventory(
        domains=[("", d) for d in config.get("domains") or {}], keys=[("", "", k) for k in config.get("api_keys") or {}]
    )
    for pod, body in (config.get("pods") or {}).items():
        inv.pods.append((pod, body.get("name", pod)))
        inv.domains += [(pod, d) for d in body.get("domains") or {}]
        inv.keys += [(pod, "", k) for k in body.get("api_keys") or {}]
        for inbox, inbox_body in (body.get("inboxes") or {}).items():
            inv.inboxes.append((pod, inbox))
            inv.keys += [(pod, inbox, k) for k in (inbox_body or {}).get("api_keys") or {}]
    for rows in (inv.pods, inv.inboxes, inv.domains, inv.keys):
        rows.sort()
    return inv
