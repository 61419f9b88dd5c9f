"""A stdout that cannot be written (issue 17 point 5): a pipe whose reader went away (EPIPE) or a
full disk (/dev/full; here a stand-in whose writes fail with ENOSPC, as no test may touch /dev)
gives exit 1 and one line on stderr, never a
traceback nor Python's "Exception ignored" at exit."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from e2e_harness import mailctl_command

BASIC = Path(__file__).resolve().parents[2] / "examples" / "basic"
# --version and the group's --help print while click parses the group's options, before any command
# runs: they tracebacked until the group's make_context caught the failed write too.
COMMANDS = [["schema"], ["render", "-f", str(BASIC)], ["validate", "-f", str(BASIC)], ["--version"], ["--help"]]


def _check(returncode: int, stderr: str) -> None:
    assert returncode == 1, stderr
    assert stderr.startswith("Error: cannot write the output: "), stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_a_pipe_closed_by_its_reader_is_one_line_and_exit_1(args: list[str]) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before mailctl writes a byte: every write is EPIPE
    try:
        done = subprocess.run(
            [*mailctl_command(), *args],
            stdout=write,
            capture_output=False,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write)
    _check(done.returncode, done.stderr)


# Loaded by the child's interpreter (PYTHONPATH): its stdout behaves like /dev/full, every write
# fails with ENOSPC for as long as file descriptor 1 is still that file.
FULL_DISK = """
import errno, io, os, sys
_full = os.fstat(1)
class _Full(io.RawIOBase):
    def writable(self): return True
    def fileno(self): return 1
    def write(self, data):
        now = os.fstat(1)
        if (now.st_dev, now.st_ino) == (_full.st_dev, _full.st_ino):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(1, data)
sys.stdout = io.TextIOWrapper(io.BufferedWriter(_Full()), encoding="utf-8")
"""


@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: a[0])
def test_a_full_disk_is_one_line_and_exit_1(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "sitecustomize.py").write_text(FULL_DISK)
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    with (tmp_path / "out").open("w") as out:
        done = subprocess.run(
            [*mailctl_command(), *args], stdout=out, stderr=subprocess.PIPE, text=True, env=env, timeout=60
        )
    stderr = done.stderr
    _check(done.returncode, stderr)
    assert "No space left on device" in stderr
    assert (tmp_path / "out").stat().st_size == 0
