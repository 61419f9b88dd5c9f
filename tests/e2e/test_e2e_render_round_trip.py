"""`mailctl render` prints a config that plans as the config it came from (README, Templates:
"that output is itself a valid config describing the same resources"), over HTTP: `moved:` kept
(a rename planned as one stays one, not a key destroyed and another minted), and list entries
merged whatever form each file writes them in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e_harness import mailctl_command


def run(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*mailctl_command(), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


V1 = "version: 1\npods:\n  tenant-a:\n    name: A\n    api_keys: {old: {}}\n"
V2 = (
    "version: 1\n"
    "moved:\n  - {from: pod/tenant-a/api_key/old, to: pod/tenant-a/api_key/new}\n"
    "pods:\n  tenant-a:\n    name: A\n    api_keys: {new: {}}\n"
)


def test_render_keeps_moved_so_the_rendered_config_plans_the_same(tmp_path: Path):
    (tmp_path / "v1.yaml").write_text(V1)
    (tmp_path / "v2.yaml").write_text(V2)
    db = tmp_path / "sandbox.db"
    applied = run("apply", "-f", "v1.yaml", "--sandbox", db, "--auto-approve", "--secrets-out", "s.json", cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    rendered = run("render", "-f", "v2.yaml", cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    (tmp_path / "rendered.yaml").write_text(rendered.stdout)

    original = run("plan", "-f", "v2.yaml", "--sandbox", db, "--color", "never", cwd=tmp_path)
    again = run("plan", "-f", "rendered.yaml", "--sandbox", db, "--color", "never", cwd=tmp_path)
    assert "renamed in place" in original.stdout
    assert "moved:" in rendered.stdout
    assert "will be destroyed" not in again.stdout, again.stdout
    assert again.stdout == original.stdout


AS_LIST = "version: 1\nlists:\n  receive:\n    block: [spam.example]\n"
AS_MAP = "version: 1\nlists:\n  receive:\n    block: {other.example: {reason: known bad}}\n"


@pytest.mark.parametrize("first,second", [(AS_LIST, AS_MAP), (AS_MAP, AS_LIST)], ids=["list-then-map", "map-then-list"])
def test_render_keeps_every_list_entry_whatever_form_each_file_uses(tmp_path: Path, first: str, second: str):
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "a.yaml").write_text(first)
    (config / "b.yaml").write_text(second)
    db = tmp_path / "sandbox.db"
    applied = run("apply", "-f", config, "--sandbox", db, "--auto-approve", cwd=tmp_path)
    assert applied.returncode == 0, applied.stdout + applied.stderr

    rendered = run("render", "-f", config, cwd=tmp_path)
    assert rendered.returncode == 0, rendered.stderr
    assert "spam.example" in rendered.stdout and "other.example" in rendered.stdout, rendered.stdout
    (tmp_path / "rendered.yaml").write_text(rendered.stdout)
    again = run("plan", "-f", "rendered.yaml", "--sandbox", db, "--detailed-exitcode", "--color", "never", cwd=tmp_path)
    assert again.returncode == 0, again.stdout  # "No changes", as for the config itself
