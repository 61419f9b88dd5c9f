"""README (Files): inside a directory a file is read when "every top-level key is a mailctl key
(`version`, ..., `pods`, ...)". A config file written in YAML flow style or as JSON (a subset of
YAML: what a script emits) is skipped instead, with a false reason ("no mailctl top-level key
(not a mailctl file)", or "top-level key `--- {version` is not mailctl's"), so its pods read as
undeclared and the plan destroys them (manage.pods matches)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from e2e_harness import mailctl_command


def run(*args: object, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*mailctl_command(), *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


FORMS = {
    "json-one-line": '{"version": 1, "pods": {"tenant-g": {"name": "G"}}}\n',
    "json-multi-line": '{\n  "version": 1,\n  "pods": {"tenant-g": {"name": "G"}}\n}\n',
    "flow-after-document-start": "--- {version: 1, pods: {tenant-g: {name: G}}}\n",
}


@pytest.mark.parametrize("text", FORMS.values(), ids=FORMS.keys())
def test_a_flow_style_config_file_in_a_directory_is_read(tmp_path: Path, text: str):
    config = tmp_path / "cfg"
    config.mkdir()
    (config / "platform.yaml").write_text("version: 1\nmanage: {pods: {client_id_prefix: tenant-}}\n")
    (config / "g.yaml").write_text(text)
    db = tmp_path / "sandbox.db"
    # named with -f, the file is read and applied
    applied = run(
        "apply",
        "-f",
        config / "g.yaml",
        "-f",
        config / "platform.yaml",
        "--sandbox",
        db,
        "--auto-approve",
        cwd=tmp_path,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr

    validated = run("validate", "-f", config, cwd=tmp_path)
    assert "skipped" not in validated.stderr, validated.stderr
    assert "1 resource (1 pod)" in validated.stdout, validated.stdout

    planned = run("plan", "-f", config, "--sandbox", db, "--detailed-exitcode", "--color", "never", cwd=tmp_path)
    assert "will be destroyed" not in planned.stdout, planned.stdout
    assert planned.returncode == 0, planned.stdout + planned.stderr
