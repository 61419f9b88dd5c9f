"""--secrets-out over the real CLI: anything but a regular file (or a new one) is refused before any
change, and a symlink is followed (its target gets the secrets, the link stays)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from e2e_harness import Inventory

CONFIG = {"version": 1, "api_keys": {"sink-test": {}}}


def _refused(mailctl, sandbox, baseline, config: Path, sink: Path, why: str) -> None:
    # --secrets-out=PATH: the harness reads a --secrets-out PATH after the run, and this one is no file
    run = mailctl.subprocess("apply", "-f", config, "--auto-approve", f"--secrets-out={sink}", timeout=30)
    assert run.exit_code == 1, run.output
    assert f"--secrets-out {sink}: {why}" in run.stderr and "nothing was changed" in run.stderr
    assert Inventory.read(sandbox.sdk()).without(baseline).keys == []


def test_a_device_as_sink_is_refused_and_left_a_device(mailctl, sandbox, baseline, write_config, tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        pytest.skip("making a device node needs root (CI runs as root)")
    _refused(mailctl, sandbox, baseline, write_config(CONFIG), device, "is a character device")
    assert stat.S_ISCHR(device.lstat().st_mode)


def test_a_fifo_as_sink_is_refused_without_hanging(mailctl, sandbox, baseline, write_config, tmp_path):
    os.mkfifo(tmp_path / "fifo")
    _refused(mailctl, sandbox, baseline, write_config(CONFIG), tmp_path / "fifo", "is a FIFO")


def test_a_directory_as_sink_is_refused(mailctl, sandbox, baseline, write_config, tmp_path):
    (tmp_path / "dir").mkdir()
    _refused(mailctl, sandbox, baseline, write_config(CONFIG), tmp_path / "dir", "is a directory")


def test_a_symlink_sink_is_followed_and_kept(mailctl, sandbox, write_config, tmp_path):
    target = tmp_path / "vault" / "keys.json"
    target.parent.mkdir()
    link = tmp_path / "secrets-link.json"
    link.symlink_to(target)
    run = mailctl.subprocess("apply", "-f", write_config(CONFIG), "--auto-approve", "--secrets-out", link)
    assert run.exit_code == 0, run.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    records = mailctl.watch.secrets_file(target)
    assert [r["address"] for r in records] == ["api_key/sink-test"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert json.loads(link.read_text()) == records


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_out_never_replaces_a_secrets_file(mailctl, write_config, command):
    """A --secrets-out file is the only copy of its secrets: `plan --out` or `drift --out` naming
    it (a wrong path, a recalled shell line) is refused before anything is read, and it is kept."""
    config = write_config(CONFIG)
    mailctl.apply(config)
    sink = mailctl.workdir / "secrets.json"
    before = sink.read_bytes()
    assert json.loads(before)[0]["secret"]
    run = mailctl(command, "-f", config, "--out", "secrets.json")
    assert run.exit_code == 1, run.output
    assert "--out secrets.json: is a mailctl secrets file" in run.stderr and "pass another path" in run.stderr
    assert sink.read_bytes() == before


def test_out_never_replaces_a_secrets_file_reached_through_a_symlink(mailctl, write_config):
    config = write_config(CONFIG)
    mailctl.apply(config)
    link = mailctl.workdir / "report.json"
    link.symlink_to(mailctl.workdir / "secrets.json")
    before = link.read_bytes()
    run = mailctl("drift", "-f", config, "--out", link)
    assert run.exit_code == 1, run.output
    assert "is a mailctl secrets file" in run.stderr
    assert link.is_symlink() and link.read_bytes() == before


@pytest.mark.parametrize("content", ["", "[]\n", '{"format": "mailctl-plan/1"}\n', "old report\n"])
def test_out_still_replaces_a_file_that_holds_no_secret(mailctl, write_config, content):
    """An empty file, an empty array, an old plan or report: nothing is lost, so it is replaced."""
    config = write_config(CONFIG)
    (mailctl.workdir / "out.json").write_text(content)
    run = mailctl("drift", "-f", config, "--format", "json", "--out", "out.json")
    assert run.exit_code == 2, run.output
    assert json.loads((mailctl.workdir / "out.json").read_text())["drift"] is True
