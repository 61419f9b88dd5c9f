"""GitHub's runner executes the legacy workflow command `##[command]data` found ANYWHERE in a line
a step prints, on stdout or stderr, whatever the tool meant (actions/runner: ActionCommand.TryParse
looks for "##["). A name, value or file name holding `##[stop-commands]TOKEN` turned off every later
annotation of the step (`apply will refuse this plan` included); `##[add-mask]`, `##[set-output]`
and `##[error]` worked the same way. mailctl prints no "##[" from config or API text in any format:
people see `#\\u0023[`, JSON carries `##\\u005b` (the same string once parsed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailctl.cli.main import cli

ENV = {"AGENTMAIL_API_KEY": None, "AGENTMAIL_BASE_URL": None}
HOSTILE = """\
version: 1
pods:
  tenant-a:
    name: "A ##[stop-commands]tok"
    inboxes:
      bot@agentmail.to:
        display_name: "x ##[add-mask]Plan"
        metadata: {k: "##[set-output name=changes]0"}
"""


def _run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, list(args), env=ENV)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "mailctl.yaml").write_text(HOSTILE)
    return tmp_path / "mailctl.yaml"


@pytest.mark.parametrize("fmt", ["text", "markdown", "github", "json"])
def test_a_plan_prints_no_runner_command_from_config_values(tmp_path: Path, config: Path, fmt: str) -> None:
    run = _run(tmp_path, "plan", "-f", str(config), "--sandbox", str(tmp_path / "db"), "--format", fmt)
    assert run.exit_code == 0, run.output
    assert "##[" not in run.stdout + run.stderr
    if fmt == "json":  # exact still
        names = {c["address"]: c for c in json.loads(run.stdout)["changes"]}
        assert "A ##[stop-commands]tok" in json.dumps(names["pod/tenant-a"], ensure_ascii=False)
    elif fmt != "markdown":  # (a Markdown plan lists a create's address, not its values)
        assert "A #\\u0023[stop-commands]tok" in run.stdout


@pytest.mark.parametrize("fmt", ["text", "markdown", "github", "json", "openmetrics"])
def test_drift_prints_no_runner_command_from_declared_values(tmp_path: Path, fmt: str) -> None:
    db = str(tmp_path / "db")
    (tmp_path / "m.yaml").write_text("version: 1\npods:\n  tenant-a: {name: A}\n")
    assert _run(tmp_path, "apply", "-f", str(tmp_path / "m.yaml"), "--sandbox", db, "--auto-approve").exit_code == 0
    (tmp_path / "m.yaml").write_text('version: 1\npods:\n  tenant-a: {name: "B ##[stop-commands]tok"}\n')
    run = _run(tmp_path, "drift", "-f", str(tmp_path / "m.yaml"), "--sandbox", db, "--format", fmt)
    assert run.exit_code == 2, run.output
    assert "##[" not in run.stdout + run.stderr


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_validate_prints_no_runner_command_from_a_file_name(tmp_path: Path, fmt: str) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "x ##[stop-commands]tok.yaml").write_text("version: 1\npods:\n  t: {bogus: 1}\n")
    run = _run(tmp_path, "validate", "-f", str(conf), "--format", fmt)
    assert run.exit_code == 1, run.output
    assert "##[" not in run.stdout + run.stderr
    assert "x #\\u0023[stop-commands]tok.yaml" in run.stdout + run.stderr


def test_render_and_export_write_no_runner_command_and_reload_the_same(tmp_path: Path, config: Path) -> None:
    import yaml

    run = _run(tmp_path, "render", "-f", str(config))
    assert run.exit_code == 0, run.output
    assert "##[" not in run.stdout
    assert yaml.safe_load(run.stdout)["pods"]["tenant-a"]["name"] == "A ##[stop-commands]tok"
    db = str(tmp_path / "db")
    assert _run(tmp_path, "apply", "-f", str(config), "--sandbox", db, "--auto-approve").exit_code == 0
    exported = _run(tmp_path, "export", "--sandbox", db)
    assert exported.exit_code == 0, exported.output
    assert "##[" not in exported.stdout
    assert yaml.safe_load(exported.stdout)["pods"]["tenant-a"]["name"] == "A ##[stop-commands]tok"
