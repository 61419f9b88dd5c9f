"""An adversarial run by another local user, end to end: the README's drift recipe writes
``--out`` into a collector directory that a service account owns; if that account plants a link
there, root running mailctl must not replace the file the link names (exit 1, nothing written).

CI runs as root: "another user" is uid 65534 (nobody), set with os.chown on what is made here.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOBODY = 65534


@pytest.mark.parametrize(
    "command",
    [("drift", "--format", "openmetrics", "--out"), ("plan", "--out")],
    ids=["drift-out", "plan-out"],
)
def test_out_through_a_link_a_service_account_planted_in_its_directory_is_refused(
    mailctl, write_config, tmp_path: Path, command: tuple[str, ...]
):
    precious = tmp_path / "shadow"
    precious.write_text("root:*:19000:0:99999:7:::\n")
    collector = tmp_path / "textfile"
    collector.mkdir()
    (collector / "mailctl.out").symlink_to(precious)
    try:
        os.chown(collector, NOBODY, NOBODY)
        os.chown(collector / "mailctl.out", NOBODY, NOBODY, follow_symlinks=False)
    except PermissionError:
        pytest.skip("giving a directory to another user needs root (CI runs as root)")
    config = write_config({"version": 1, "pods": {"lu": {"name": "LU"}}})
    run = mailctl(command[0], "-f", config, *command[1:], collector / "mailctl.out")
    assert run.exit_code == 1, run.output
    assert "owned by uid 65534" in run.output and "may have planted it" in run.output
    assert precious.read_text() == "root:*:19000:0:99999:7:::\n"
