"""A config directory in a sparse checkout (``git sparse-checkout``) over HTTP.

Git tracks files a sparse checkout leaves out of the working tree. Read there, a config
directory misses them, so the tenants they declare read as removed: a plan would delete them, and
``--changed-since`` would select them for deletion. Every command refuses instead, before any
request that changes anything, and names the files left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from e2e_harness import Inventory
from test_e2e_changed_since import git


def tenant(name: str) -> dict[str, Any]:
    return {"version": 1, "pods": {f"sc-{name}": {"name": name, "inboxes": {f"{name}-desk@agentmail.to": {}}}}}


@pytest.fixture
def fleet(tmp_path: Path, mailctl: Any) -> Path:
    """A repository whose ``fleet/`` holds a tenant per directory, applied, then checked out
    sparsely: ``fleet/b/`` is left out of the working tree."""
    repo = tmp_path / "repo"
    (repo / "fleet" / "a").mkdir(parents=True)
    (repo / "fleet" / "b").mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "fleet" / "mailctl.yaml").write_text(
        yaml.safe_dump({"version": 1, "manage": {"pods": {"client_id_prefix": "sc-"}}})
    )
    (repo / "fleet" / "a" / "tenant.yaml").write_text(yaml.safe_dump(tenant("a")))
    (repo / "fleet" / "b" / "tenant.yaml").write_text(yaml.safe_dump(tenant("b")))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "fleet")
    mailctl.apply(repo / "fleet")
    git(repo, "sparse-checkout", "set", "--no-cone", "/fleet/mailctl.yaml", "/fleet/a/")
    assert not (repo / "fleet" / "b" / "tenant.yaml").exists()
    return repo / "fleet"


LEFT_OUT = "left out of the working tree by a sparse checkout"


@pytest.mark.parametrize("command", ["plan", "drift", "validate"])
def test_a_command_refuses_a_config_a_sparse_checkout_left_files_of(fleet: Path, mailctl: Any, command: str):
    run = mailctl(command, "-f", fleet)
    assert run.exit_code == 1, run.output
    assert f"{fleet / 'b' / 'tenant.yaml'}:1:1: {LEFT_OUT}" in run.stderr
    assert "git sparse-checkout" in run.stderr  # how to put it back
    assert "destroyed" not in run.stdout


def test_apply_deletes_nothing_a_sparse_checkout_left_out(fleet: Path, mailctl: Any, sandbox: Any):
    before = Inventory.read(sandbox.sdk())
    run = mailctl("apply", "-f", fleet, "--auto-approve")
    assert run.exit_code == 1, run.output
    assert LEFT_OUT in run.stderr
    assert Inventory.read(sandbox.sdk()) == before
    assert ("sc-b", "b") in before.pods


def test_changed_since_does_not_take_a_file_left_out_for_a_removed_one(fleet: Path, mailctl: Any, sandbox: Any):
    before = Inventory.read(sandbox.sdk())
    run = mailctl("apply", "-f", fleet, "--changed-since", "main", "--auto-approve")
    assert run.exit_code == 1, run.output
    assert LEFT_OUT in run.stderr
    assert "pod/sc-b: removed" not in run.stderr  # not selected for deletion
    assert Inventory.read(sandbox.sdk()) == before


def test_the_whole_checkout_restored_plans_no_changes(fleet: Path, mailctl: Any):
    git(fleet.parent, "sparse-checkout", "disable")
    run = mailctl("plan", "-f", fleet, "--detailed-exitcode")
    assert run.exit_code == 0, run.output
    assert "No changes" in run.stdout
