"""--secrets-out is checked whenever it is given, before the lock is taken or anything is read:
a FIFO, device or directory there is refused (exit 1) even when the plan has no changes."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

EMPTY = "version: 1\n"  # declares nothing: with an empty sandbox, "No changes"
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: nothing listens there


def _apply(tmp_path: Path, sink: Path, *connection: str) -> tuple[int, str]:
    config = tmp_path / "mailctl.yaml"
    config.write_text(EMPTY)
    result = CliRunner().invoke(
        cli,
        ["apply", "-f", str(config), *connection, "--auto-approve", "--secrets-out", str(sink)],
        env={"AGENTMAIL_API_KEY": "am_unused"},
    )
    return result.exit_code, result.output


def _device(tmp_path: Path) -> Path:
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("making a device node needs root (CI runs as root)")
    return device


def _fifo(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "fifo")
    return tmp_path / "fifo"


def _directory(tmp_path: Path) -> Path:
    (tmp_path / "dir").mkdir()
    return tmp_path / "dir"


SINKS = {"a FIFO": _fifo, "a character device": _device, "a directory": _directory}


@pytest.mark.parametrize("what", SINKS)
def test_a_bad_sink_is_refused_even_when_there_is_nothing_to_change(tmp_path: Path, what: str) -> None:
    sink = SINKS[what](tmp_path)
    kind = stat.S_IFMT(sink.lstat().st_mode)
    code, output = _apply(tmp_path, sink, "--sandbox", str(tmp_path / "sandbox.db"))
    assert code == 1, output
    assert f"--secrets-out {sink}: is {what}, not a regular file (nothing was changed)" in output
    assert "No changes" not in output  # refused before planning
    assert stat.S_IFMT(sink.lstat().st_mode) == kind  # left as it was


def test_a_bad_sink_is_refused_before_the_api_is_contacted(tmp_path: Path) -> None:
    fifo = _fifo(tmp_path)
    code, output = _apply(tmp_path, fifo, "--endpoint", UNREACHABLE)
    assert code == 1, output
    assert "is a FIFO" in output and "127.0.0.1:9" not in output  # no lock, no plan: no connection error
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_good_sink_with_nothing_to_change_exits_0_and_is_not_created(tmp_path: Path) -> None:
    sink = tmp_path / "secrets.json"
    code, output = _apply(tmp_path, sink, "--sandbox", str(tmp_path / "sandbox.db"))
    assert code == 0, output
    assert "No changes" in output and not sink.exists()
