"""`--format github` errors that are not config problems: one `::error::` annotation (no file or
line to point at), its hostile text escaped so that it stays one line and one annotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

BASIC = Path(__file__).resolve().parents[3] / "examples" / "basic" / "mailctl.yaml"
HOSTILE_DB = "missing/a\x1b[2J%,:\n::warning::x.db"
SHOWN_DB = "a\\x1b[2J%25,:\\n::warning::x.db"  # ESC and LF shown as escapes, % as GitHub's %25


@pytest.mark.parametrize("command", ["plan", "drift"])
def test_github_annotates_a_non_config_error_as_one_escaped_error_line(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting `return [workflow_command("error", str(exc))]` in error_annotations let a sandbox
    error (not a ConfigError) crash the annotation step: no `::error::` at all."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [command, "-f", str(BASIC), "--sandbox", HOSTILE_DB, "--format", "github"])
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"::error::cannot open sandbox database 'missing/{SHOWN_DB}': No such file or directory"
    ]
    assert "Error: cannot open sandbox database" in result.stderr  # the usual report, too
