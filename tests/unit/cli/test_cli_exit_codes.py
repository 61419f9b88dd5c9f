"""Exit 2 means "changes pending" / "drift found" and nothing else: every usage error exits 1."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

USAGE_ERRORS = [
    ["drift", "--fromat", "json"],  # unknown option
    ["plan", "--format", "md", "--detailed-exitcode"],  # bad choice
    ["drift", "--format", "yaml"],
    ["apply", "--parallelism", "0"],  # number out of range
    ["apply", "--parallelism", "many"],  # not a number
    ["apply", "--lock-timeout", "-1"],
    ["apply", "--wait-for-domains", "soon"],
    ["rotate"],  # missing argument
    ["rotate", "pod/a/api_key/k", "--secrets-out"],  # option without its value
    ["import"],
    ["dns", "--format", "bind"],
    ["export", "--bogus"],
    ["unlock", "--forse"],
    ["validate", "extra-argument"],
    ["sandbox", "serve", "--port", "x"],
    ["sandbox", "serve", "--fault-mode", "sideways"],
    ["sandbox", "bogus"],
    ["bogus"],  # unknown command
    ["--bogus"],
    [],  # no command at all
]


@pytest.mark.parametrize("argv", USAGE_ERRORS, ids=lambda argv: " ".join(argv) or "(none)")
def test_every_usage_error_exits_1_not_2(argv: list[str]) -> None:
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("argv", [["--help"], ["--version"], ["plan", "--help"], ["sandbox", "serve", "--help"]])
def test_help_and_version_exit_0(argv: list[str]) -> None:
    assert CliRunner().invoke(cli, argv).exit_code == 0


def test_a_typo_in_a_real_process_exits_1_with_the_message() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "from mailctl.cli.main import main; main()", "drift", "--fromat", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "No such option '--fromat'" in done.stderr
