"""Fixtures for the end-to-end suite: mailctl's CLI against a real `mailctl sandbox serve` process.

- ``server`` (session): the sandbox subprocess; ``sandbox`` (per test) resets it first.
- ``mailctl``: runs the CLI in-process through click's CliRunner with ``--endpoint`` and
  ``AGENTMAIL_API_KEY`` set; ``mailctl.subprocess(...)`` runs the installed console script.
- Every output of every run goes through ``secret_watch``: no API key secret (the org key, or
  any secret a run stored with ``--secrets-out``) may ever appear in a CLI's stdout or stderr.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from e2e_harness import ORG_KEY, Inventory, SandboxProcess, mailctl_command, watched_sandbox

from mailctl.cli.main import cli

CONNECTION_COMMANDS = {"plan", "apply", "drift", "unlock", "dns", "rotate", "export", "import"}


class SecretWatch:
    """Every CLI output seen, every secret known; either side arriving late is checked too."""

    def __init__(self) -> None:
        self.outputs: list[tuple[str, str]] = []  # (command line, text)
        self.secrets: set[str] = {ORG_KEY}

    def output(self, command: str, text: str) -> None:
        self.outputs.append((command, text))
        self._check([(command, text)], self.secrets)

    def secrets_file(self, path: Path) -> list[dict[str, Any]]:
        """Load a --secrets-out file, check its mode and format, and watch its secrets."""
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, f"{path} is not mode 0600"
        text = path.read_text()
        # A run SIGKILLed between creating the file and its first write leaves it empty: no record
        # yet, and mailctl reads it so (tests/unit/test_secrets.py). Anything else must be JSON.
        records = json.loads(text) if text.strip() else []
        assert isinstance(records, list)
        new = {r["secret"] for r in records} - self.secrets
        assert all(isinstance(s, str) and len(s) >= 16 for s in new), "a stored secret is not a key"
        self.secrets |= new
        self._check(self.outputs, new)
        return records

    @staticmethod
    def _check(outputs: list[tuple[str, str]], secrets_: set[str]) -> None:
        for command, text in outputs:
            for secret in secrets_:
                assert secret not in text, f"a secret appeared in the output of `{command}`"


@pytest.fixture(scope="session")
def secret_watch() -> SecretWatch:
    return SecretWatch()


@pytest.fixture(scope="session")
def server(secret_watch: SecretWatch) -> Iterator[SandboxProcess]:
    with watched_sandbox(secret_watch, "", ORG_KEY) as process:
        yield process


@pytest.fixture
def sandbox(server: SandboxProcess) -> SandboxProcess:
    server.reset()
    return server


@dataclass
class Run:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def json(self) -> Any:
        return json.loads(self.stdout)


class Mailctl:
    """``mailctl("plan", "-f", cfg)``: the CLI against ``sandbox``; never a traceback."""

    def __init__(self, sandbox: SandboxProcess, watch: SecretWatch, workdir: Path):
        self.sandbox = sandbox
        self.watch = watch
        self.workdir = workdir

    def _args(self, args: tuple[str, ...], endpoint: bool) -> list[str]:
        out = [str(a) for a in args]
        if endpoint and out and out[0] in CONNECTION_COMMANDS:
            out += ["--endpoint", self.sandbox.url]
        return out

    @staticmethod
    def _key(key: bool | str) -> str | None:
        """True: the org key; False: no key at all; a string: that key."""
        return key if isinstance(key, str) else (ORG_KEY if key else None)

    def __call__(self, *args: Any, endpoint: bool = True, key: bool | str = True, input: str | None = None) -> Run:
        argv = self._args(args, endpoint)
        env = {"AGENTMAIL_API_KEY": self._key(key), "AGENTMAIL_BASE_URL": None}
        result = CliRunner().invoke(cli, argv, env=env, input=input, catch_exceptions=True)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"`mailctl {' '.join(argv)}` raised {result.exception!r}") from result.exception
        return self._record(argv, result.exit_code, result.stdout, result.stderr)

    def subprocess(self, *args: Any, endpoint: bool = True, key: bool | str = True, timeout: float = 60) -> Run:
        """The installed console script, stdin not a terminal."""
        argv = self._args(args, endpoint)
        env = {k: v for k, v in os.environ.items() if k not in ("AGENTMAIL_API_KEY", "AGENTMAIL_BASE_URL")}
        if self._key(key):
            env["AGENTMAIL_API_KEY"] = str(self._key(key))
        done = subprocess.run(
            [*mailctl_command(), *argv],
            capture_output=True,
            text=True,
            env=env,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            cwd=self.workdir,
        )
        return self._record(argv, done.returncode, done.stdout, done.stderr)

    def _record(self, argv: list[str], code: int, stdout: str, stderr: str) -> Run:
        command = "mailctl " + " ".join(argv)
        self.watch.output(command, stdout + stderr)
        assert "Traceback (most recent call last)" not in stdout + stderr, f"`{command}` printed a traceback"
        if "--secrets-out" in argv:
            path = Path(argv[argv.index("--secrets-out") + 1])
            path = path if path.is_absolute() else self.workdir / path
            if path.exists():
                self.watch.secrets_file(path)
        return Run(code, stdout, stderr)

    # -- conveniences --------------------------------------------------------------------------

    def apply(self, config: Path, *extra: Any) -> Run:
        run = self("apply", "-f", config, "--auto-approve", "--secrets-out", self.workdir / "secrets.json", *extra)
        assert run.exit_code == 0, run.output
        return run

    def plan_json(self, config: Path, *extra: Any) -> dict[str, Any]:
        run = self("plan", "-f", config, "--json", *extra)
        assert run.exit_code == 0, run.output
        plan: dict[str, Any] = run.json()
        return plan


@pytest.fixture
def mailctl(
    sandbox: SandboxProcess, secret_watch: SecretWatch, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Mailctl:
    monkeypatch.chdir(tmp_path)
    return Mailctl(sandbox, secret_watch, tmp_path)


@pytest.fixture
def baseline(sandbox: SandboxProcess) -> Inventory:
    """What a fresh sandbox holds (the Default Pod, the bootstrap key)."""
    return Inventory.read(sandbox.sdk())


# ---------------------------------------------------------------------------------------------
# Configs


@pytest.fixture
def write_config(tmp_path: Path) -> Any:
    """``write_config(data, name="mailctl.yaml") -> Path``: a config dict written as YAML."""

    def write(data: dict[str, Any], name: str = "mailctl.yaml") -> Path:
        path = tmp_path / name
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        return path

    return write
