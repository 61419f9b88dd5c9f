"""Every case in tests/fixtures/bad/ fails `mailctl validate` with exactly its annotated problems.

A case is a file, or a directory of files. Each `# expect: LINE:COL: path: message` comment at
the top of a file is one problem expected in that file; the header must count exactly those.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

REPO = Path(__file__).resolve().parents[3]
BAD = Path("tests/fixtures/bad")
CASES = sorted(p.name for p in (REPO / BAD).iterdir())
SUBPROCESS_SAMPLE = [
    "alias-bomb.yaml",
    "non-utf8.yaml",
    "tab-indentation.yaml",
    "pod-in-two-files",
    "webhook-undeclared-pod.yaml",
    "deeply-nested.yaml",
]


def expected_problems(case: str) -> list[str]:
    target = BAD / case
    files = sorted(target.glob("*.yaml")) if (REPO / target).is_dir() else [target]
    expected = []
    for file in files:
        head = (REPO / file).read_bytes().decode("utf-8", errors="replace")
        expected += [f"{file}:{m}" for m in re.findall(r"^# expect: (.+)$", head, flags=re.M)]
    return expected


def check(case: str, exit_code: int, stdout: str, stderr: str) -> None:
    expected = expected_problems(case)
    assert expected, f"{case} has no `# expect:` annotation"
    assert exit_code == 1
    assert stdout == ""
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    count = len(expected)
    assert lines[0] == f"Error: {count} problem{'' if count == 1 else 's'} in the configuration:"
    assert lines[1:] == sorted(expected, key=_location)


def _location(line: str) -> tuple[str, int, int]:
    file, row, column = line.split(":", 3)[:3]
    return file, int(row), int(column)


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 35


@pytest.mark.parametrize("case", CASES)
def test_bad_config_is_rejected_with_its_annotated_problems(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(cli, ["validate", "-f", str(BAD / case)])
    check(case, result.exit_code, result.stdout, result.stderr)


@pytest.mark.parametrize("case", SUBPROCESS_SAMPLE)
def test_bad_config_is_rejected_by_the_installed_command(case: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", "from mailctl.cli.main import main; main()", "validate", "-f", str(BAD / case)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    check(case, result.returncode, result.stdout, result.stderr)
