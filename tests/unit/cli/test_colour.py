"""Colour: never with NO_COLOR set (to any value, even empty) or off a terminal; --color always
forces it, --color never removes it. Checked on a real pseudo-terminal with the console script."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.colour import resolve
from mailctl.cli.main import cli
from mailctl.cli.wait_progress import DomainWaitReporter

BASIC = Path(__file__).resolve().parents[3] / "examples" / "basic"
ESC = "\x1b["
PLAN = ["plan", "-f", str(BASIC), "--sandbox", ":memory:"]


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    env.update(TERM="xterm-256color", **extra)
    return env


def _on_pty(argv: list[str], env: dict[str, str]) -> str:
    """Run the CLI with stdout and stderr on a pseudo-terminal; everything it wrote."""
    master, slave = pty.openpty()
    code = "import sys; sys.argv[0] = 'mailctl'; from mailctl.cli.main import main; main()"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *argv],
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    chunks = []
    deadline = time.monotonic() + 120  # a hung child fails the test instead of hanging the suite
    try:
        while time.monotonic() < deadline:
            if not select.select([master], [], [], 1.0)[0]:
                continue
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the child closed its end
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(master)
        if proc.poll() is None and time.monotonic() >= deadline:
            proc.kill()
    assert proc.wait(timeout=120) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode()


def test_a_terminal_gets_colour_by_default() -> None:
    out = _on_pty(PLAN, _env())
    assert "Plan: 8 to add" in out and ESC in out


@pytest.mark.parametrize("value", ["1", ""], ids=["NO_COLOR=1", "NO_COLOR=(empty)"])
def test_no_color_on_a_terminal_prints_no_escape_sequences(value: str) -> None:
    out = _on_pty(PLAN, _env(NO_COLOR=value))
    assert "Plan: 8 to add" in out and ESC not in out


def test_color_never_on_a_terminal_prints_no_escape_sequences() -> None:
    out = _on_pty([*PLAN, "--color", "never"], _env())
    assert "Plan: 8 to add" in out and ESC not in out


def test_color_always_colours_a_pipe() -> None:
    code = "import sys; sys.argv[0] = 'mailctl'; from mailctl.cli.main import main; main()"
    piped = subprocess.run(
        [sys.executable, "-c", code, *PLAN, "--color", "always"],
        env=_env(NO_COLOR="1"),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert piped.returncode == 0, piped.stderr
    assert ESC in piped.stdout  # the flag beats NO_COLOR, as no-color.org asks
    plain = subprocess.run(
        [sys.executable, "-c", code, *PLAN], env=_env(), capture_output=True, text=True, check=False, timeout=120
    )
    assert "Plan: 8 to add" in plain.stdout and ESC not in plain.stdout  # a pipe: no colour by default


def test_color_given_to_the_group_holds_for_the_command() -> None:
    result = CliRunner().invoke(cli, ["--color", "always", *PLAN])
    assert ESC in result.stdout
    result = CliRunner().invoke(cli, ["--color", "never", *PLAN], color=True)
    assert ESC not in result.stdout


def test_resolve_maps_choices_and_no_color() -> None:
    assert resolve("always", {"NO_COLOR": "1"}) is True
    assert resolve("never", {}) is False
    assert resolve("auto", {"NO_COLOR": ""}) is False
    assert resolve("auto", {}) is None  # click decides per stream: colour only on a terminal


def test_a_bad_color_value_is_a_usage_error_exit_1() -> None:
    result = CliRunner().invoke(cli, ["plan", "--color", "sometimes"])
    assert result.exit_code == 1


@pytest.mark.parametrize("how", ["NO_COLOR", "--color never"])
def test_apply_on_a_terminal_without_colour_writes_no_escapes_even_from_its_threads(tmp_path: Path, how: str) -> None:
    """The live progress line is drawn from a background thread, which sees no click context."""
    argv = [
        "apply",
        "-f",
        str(BASIC),
        "--sandbox",
        str(tmp_path / "sandbox.db"),
        "--auto-approve",
        "--secrets-out",
        str(tmp_path / "secrets.json"),
    ]
    if how == "NO_COLOR":
        out = _on_pty(argv, _env(NO_COLOR="1"))
    else:
        out = _on_pty([*argv, "--color", "never"], _env())
    assert "Apply complete!" in out and "Progress: " in out  # the live line was drawn (and cleared)
    assert ESC not in out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("color, coloured", [(False, False), (True, True), (None, True)])
def test_wait_reporters_called_from_a_worker_thread_use_the_colour_they_were_given(
    monkeypatch: pytest.MonkeyPatch, color: bool | None, coloured: bool
) -> None:
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    report = DomainWaitReporter(60, color=color)
    worker = threading.Thread(target=report, args=("d.example", "VERIFYING", 0.0))
    worker.start()
    worker.join(30)
    assert "Waiting up to 60s for domain d.example" in terminal.getvalue()
    assert (ESC in terminal.getvalue()) is coloured
