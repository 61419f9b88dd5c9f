"""`--format github` on a config with more problems than are shown: one annotation per shown
problem, then one `::error::... and N more problems`; and only that count line, never a problem
line that happens to read like it, becomes the extra annotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli
from mailctl.errors import MAX_SHOWN_PROBLEMS


def test_validate_github_ends_with_one_annotation_counting_the_problems_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each shown problem is annotated at its line; the ones beyond MAX_SHOWN_PROBLEMS are counted
    in a last `::error::` (error_annotations' `... and N more` line)."""
    monkeypatch.chdir(tmp_path)
    fields = "".join(f"    bad{i:03}: x\n" for i in range(MAX_SHOWN_PROBLEMS + 2))
    Path("many.yaml").write_text("version: 1\npods:\n  a:\n" + fields)
    result = CliRunner().invoke(cli, ["validate", "-f", "many.yaml", "--format", "github"])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == MAX_SHOWN_PROBLEMS + 1
    assert lines[0].startswith("::error file=many.yaml,line=4,col=5::pods.a.bad000: unknown field `bad000`")
    assert all(line.startswith("::error file=many.yaml,line=") for line in lines[:-1])
    assert lines[-1] == "::error::... and 2 more problems"


def test_validate_github_file_named_like_the_count_line_adds_no_annotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """error_annotations took the report's last line for the count whenever it began `... and `:
    a config file named `... and 9 more.yaml` forged a second, unlocated `::error::` repeating
    its one problem."""
    monkeypatch.chdir(tmp_path)
    Path("... and 9 more.yaml").write_text("version: 1\npods:\n  a:\n    nme: x\n")
    result = CliRunner().invoke(cli, ["validate", "-f", "... and 9 more.yaml", "--format", "github"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "::error file=... and 9 more.yaml,line=4,col=5::pods.a.nme: unknown field `nme`; did you mean `name`?"
    ]
