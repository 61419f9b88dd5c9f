"""An empty path (`"$PLAN"` with the variable unset, the usual CI slip) is an error naming it, never
taken for no path: `plan --out ''` saved nothing and exited 0, `apply ''` planned and applied
./mailctl.yaml afresh instead of the reviewed plan, `drift --out ''` printed on stdout."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mailctl.cli.main import cli

ENV = {"AGENTMAIL_API_KEY": None, "AGENTMAIL_BASE_URL": None}
CONFIG = "version: 1\npods:\n  t-a: {name: A}\n"


def _run(tmp_path: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, [*args, "--sandbox", str(tmp_path / "sb.db")], env=ENV)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "mailctl.yaml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _nothing_created(tmp_path: Path) -> None:
    replan = _run(tmp_path, "plan", "--detailed-exitcode")
    assert replan.exit_code == 2, "the config was applied: " + replan.output


def test_plan_out_with_an_empty_path_is_an_error_naming_the_option(workdir: Path) -> None:
    run = _run(workdir, "plan", "--out", "")
    assert run.exit_code == 1, run.output
    assert "--out" in run.stderr and "empty" in run.stderr, run.stderr
    assert run.stdout == ""


def test_apply_with_an_empty_plan_file_path_applies_nothing(workdir: Path) -> None:
    run = _run(workdir, "apply", "", "--auto-approve")
    assert run.exit_code == 1, run.output
    assert "PLANFILE" in run.stderr and "empty" in run.stderr, run.stderr
    _nothing_created(workdir)


@pytest.mark.parametrize("fmt", ["text", "openmetrics"])
def test_drift_out_with_an_empty_path_is_an_error_and_prints_no_report(workdir: Path, fmt: str) -> None:
    run = _run(workdir, "drift", "--format", fmt, "--out", "")
    assert run.exit_code == 1, run.output
    assert "--out" in run.stderr and "empty" in run.stderr, run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize(
    "args", [("apply", "--auto-approve"), ("rotate", "pod/t-a/api_key/k")], ids=["apply", "rotate"]
)
def test_secrets_out_with_an_empty_path_is_an_error_not_no_file(workdir: Path, args: tuple[str, ...]) -> None:
    """Read as "no file", apply refused a plan minting keys with the wrong advice ("pass
    --secrets-out FILE": it was passed), and applied any other plan without a word."""
    run = _run(workdir, *args, "--secrets-out", "")
    assert run.exit_code == 1, run.output
    assert "--secrets-out" in run.stderr and "empty" in run.stderr, run.stderr
    _nothing_created(workdir)


@pytest.mark.parametrize("command", ["validate", "render", "graph", "plan"])
def test_an_empty_config_path_is_an_error_naming_the_option(workdir: Path, command: str) -> None:
    run = CliRunner().invoke(cli, [command, "-f", ""], env=ENV)
    assert run.exit_code == 1, run.output
    assert "'-f'" in run.stderr and "empty" in run.stderr, run.stderr
