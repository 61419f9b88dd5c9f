"""`mailctl --help` shows every command's whole summary; each command's help ends with examples;
`mailctl schema` is the shipped JSON Schema; `mailctl completion SHELL` prints a working script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

ROOT = Path(__file__).resolve().parents[3]


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append(prefix + (name,))
        if isinstance(command, click.Group):
            found += _commands(command, prefix + (name,))
    return found


COMMANDS = _commands(cli)


def _help(*argv: str, columns: int = 80) -> str:
    result = CliRunner().invoke(cli, [*argv, "--help"], env={"COLUMNS": str(columns)})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("columns", [40, 80, 200])
def test_top_level_help_never_cuts_a_command_summary(columns: int) -> None:
    text = _help(columns=columns)
    assert "..." not in text
    assert "Make the actual state match the config (or execute a saved" in " ".join(text.split())
    for command in ("validate", "plan", "apply", "drift", "schema", "completion", "sandbox"):
        assert f"\n  {command} " in text


def test_sandbox_help_shows_serve_whole() -> None:
    assert "..." not in _help("sandbox", columns=40)


@pytest.mark.parametrize("argv", COMMANDS, ids=" ".join)
def test_every_command_help_ends_with_an_example(argv: tuple[str, ...]) -> None:
    text = _help(*argv)
    assert "Example" in text
    assert "\n    mailctl " in text  # the example lines keep their layout (a \b block)


def test_every_command_has_the_color_option() -> None:
    for argv in [()] + COMMANDS:
        assert "--color auto|always|never" in _help(*argv), argv


def test_schema_prints_exactly_the_repository_schema() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    expected = (ROOT / "schemas" / "mailctl.schema.json").read_text(encoding="utf-8")
    assert result.stdout == expected
    assert json.loads(result.stdout)["$schema"].startswith("https://json-schema.org/")


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _mailctl_completion mailctl"),
        ("zsh", "#compdef mailctl"),
        ("fish", "complete --no-files --command mailctl"),
    ],
)
def test_completion_prints_the_script_for_each_shell(shell: str, marker: str) -> None:
    result = CliRunner().invoke(cli, ["completion", shell])
    assert result.exit_code == 0, result.output
    assert marker in result.stdout
    assert "_MAILCTL_COMPLETE" in result.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error_exit_1() -> None:
    result = CliRunner().invoke(cli, ["completion", "tcsh"])
    assert result.exit_code == 1
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.output


def test_the_scripts_callback_completes_commands_and_options() -> None:
    """What the bash script runs on <TAB>: the console entry point answers with candidates."""
    env = {**os.environ, "_MAILCTL_COMPLETE": "bash_complete", "COMP_WORDS": "mailctl pl", "COMP_CWORD": "1"}
    code = "import sys; sys.argv[0] = 'mailctl'; from mailctl.cli.main import main; main()"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "plain,plan" in out.stdout.splitlines()
    env.update(COMP_WORDS="mailctl plan --form", COMP_CWORD="2")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False, timeout=60)
    assert "plain,--format" in out.stdout.splitlines()
