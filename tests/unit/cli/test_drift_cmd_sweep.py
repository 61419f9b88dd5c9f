"""`mailctl drift`'s lines that the mutation sweep of ``drift_cmd.py`` found unpinned by its own
tests: each test names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --sweep src/mailctl/cli/drift_cmd.py tests/unit/cli/test_drift_cmd_sweep.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

BASIC = Path(__file__).resolve().parents[3] / "examples" / "basic" / "mailctl.yaml"


@pytest.mark.parametrize("fmt", ["text", "json", "openmetrics"])
def test_an_unwritable_out_file_fails_drift_with_exit_1_and_says_why(tmp_path: Path, fmt: str) -> None:
    """Deleting ``raise UsageError(f"cannot write {out}: ...")`` swallowed the OSError: drift exited
    2 (drift found) with the report written nowhere, so a cron job or textfile collector kept the
    last report and never learned why. Only the ``--format github`` case was pinned before."""
    directory = tmp_path / "a directory"
    directory.mkdir()
    run = CliRunner().invoke(
        cli, ["drift", "-f", str(BASIC), "--sandbox", ":memory:", "--format", fmt, "--out", str(directory)]
    )
    assert run.exit_code == 1, run.output
    assert run.stderr.splitlines()[-1] == f"Error: cannot write {directory}: Is a directory"
    assert run.stdout == ""  # the report is not printed instead
    assert list(directory.iterdir()) == []  # no temp file left behind


def test_a_writable_out_file_gets_the_report_and_stdout_stays_empty(tmp_path: Path) -> None:
    """The other branch of ``if out``: the report goes to FILE whole, not to stdout; drift still
    exits 2 for the drift found."""
    out = tmp_path / "drift.json"
    run = CliRunner().invoke(
        cli, ["drift", "-f", str(BASIC), "--sandbox", ":memory:", "--format", "json", "--out", str(out)]
    )
    assert run.exit_code == 2, run.output
    assert run.stdout == ""
    assert out.read_text().startswith("{") and out.read_text().endswith("}\n")
