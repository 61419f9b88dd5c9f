"""`mailctl unlock`'s lines that the mutation sweep of ``unlock_cmd.py`` found unpinned: each test
names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/unlock_cmd.py tests/unit/cli/test_unlock_cmd_sweep.py``)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailctl.api import lock
from mailctl.api.connect import connect
from mailctl.api.lock import LOCK_CLIENT_ID
from mailctl.cli.main import cli

ENV = {"AGENTMAIL_API_KEY": "am_unused"}
# A holder that ran on another host: mailctl cannot tell whether it still runs.
ELSEWHERE = "mailctl lock ci@elsewhere pid 4242 since 2026-01-01T00:00:00Z [0badf00d]"
NOTE = "Note: the holder ran on elsewhere; mailctl cannot tell whether it still runs there."


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "sandbox.db"


def _hold(db: Path, client_id: str, holder: str) -> None:
    """Plant a lock pod as an apply that took it would have left it."""
    client = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        client.post("/v0/pods", json={"client_id": client_id, "name": holder})
    finally:
        client.close()


def _held(db: Path) -> list[str]:
    client = connect(None, str(db), ENV["AGENTMAIL_API_KEY"])
    try:
        return sorted(p["client_id"] for p in lock.find_all(client))
    finally:
        client.close()


def _unlock(db: Path, *flags: str) -> Result:
    return CliRunner().invoke(cli, ["unlock", "--sandbox", str(db), *flags], env=ENV)


def test_a_lock_held_on_another_host_is_released_with_a_note_that_its_holder_may_still_run(db: Path) -> None:
    """Deleting the ``Note: the holder ran on HOST; ...`` (or negating its ``if``) removed a lock
    whose holder may still be applying on another machine without a word of that risk."""
    _hold(db, LOCK_CLIENT_ID, ELSEWHERE)
    run = _unlock(db)
    assert run.exit_code == 0, run.output
    assert run.stderr.splitlines() == [NOTE]
    assert run.stdout.startswith("Released the apply lock held by: mailctl lock ci@elsewhere pid 4242")
    assert _held(db) == []


def test_no_note_with_force_nor_for_a_holder_that_ran_here(db: Path) -> None:
    """The other side of that ``if``: --force says the user knows, and a holder of this host is
    checked (it died), so neither gets the note."""
    _hold(db, LOCK_CLIENT_ID, ELSEWHERE)
    forced = _unlock(db, "--force")
    assert forced.exit_code == 0, forced.output
    assert "Note:" not in forced.stderr and "Released the apply lock" in forced.stdout

    dead = f"mailctl lock t@{socket.gethostname()} pid 0 since 2026-01-01T00:00:00Z [0badf00d]"  # never alive
    _hold(db, LOCK_CLIENT_ID, dead)
    here = _unlock(db)
    assert here.exit_code == 0, here.output
    assert "Note:" not in here.stderr and "Released the apply lock" in here.stdout
    assert _held(db) == []


def test_a_lone_lock_of_a_running_holder_is_refused_naming_no_other_lock_and_is_kept(db: Path) -> None:
    """Deleting ``_others``' ``return ""`` ended the refusal with "; the other locks found: " and
    nothing after it, when the lock refused is the only one; the refusal removes nothing."""
    running = f"mailctl lock t@{socket.gethostname()} pid {os.getpid()} since 2026-01-01T00:00:00Z [0badf00d]"
    _hold(db, LOCK_CLIENT_ID, running)
    run = _unlock(db)
    assert run.exit_code == 1, run.output
    assert "the apply lock is held by a process still running on this host" in run.stderr
    assert run.stderr.endswith(f"`mailctl unlock --force --sandbox {db}` (nothing was removed)\n")
    assert "other locks found" not in run.stderr
    assert run.stdout == ""
    assert _held(db) == [LOCK_CLIENT_ID]
