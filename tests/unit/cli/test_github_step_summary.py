"""`--format github` writing $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT: a file that cannot be
written is an error (exit 1, saying which), never a summary silently lost."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

BASIC = Path(__file__).resolve().parents[3] / "examples" / "basic" / "mailctl.yaml"


@pytest.mark.parametrize("variable", ["GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"])
def test_plan_github_fails_with_cannot_write_when_a_step_file_is_unwritable(variable: str, tmp_path: Path) -> None:
    """Deleting the `raise UsageError(f"cannot write {path}: ...")` in _append swallowed the
    OSError: the plan exited 0 and the job's summary or `changes=N` output was silently missing."""
    directory = tmp_path / "a directory"
    directory.mkdir()
    result = CliRunner().invoke(
        cli, ["plan", "-f", str(BASIC), "--sandbox", ":memory:", "--format", "github"], env={variable: str(directory)}
    )
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == f"Error: cannot write {directory}: Is a directory"


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_an_unwritable_step_summary_is_also_an_error_annotation(command: str, tmp_path: Path) -> None:
    """With --format github every error is an ::error annotation too, so the failure shows on the
    run's page; the step files were written after the annotated part of the command, and their
    failure was only a line on stderr."""
    directory = tmp_path / "a directory"
    directory.mkdir()
    result = CliRunner().invoke(
        cli,
        [command, "-f", str(BASIC), "--sandbox", ":memory:", "--format", "github"],
        env={"GITHUB_STEP_SUMMARY": str(directory)},
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1] == f"::error::cannot write {directory}: Is a directory"


def test_drift_out_unwritable_is_an_error_annotation(tmp_path: Path) -> None:
    """drift --out FILE that cannot be written, with --format github: annotated as well."""
    directory = tmp_path / "a directory"
    directory.mkdir()
    result = CliRunner().invoke(
        cli, ["drift", "-f", str(BASIC), "--sandbox", ":memory:", "--format", "github", "--out", str(directory)]
    )
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1].startswith(f"::error::cannot write {directory}")
