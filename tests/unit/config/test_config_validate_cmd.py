"""`mailctl validate`: a summary on success; on failure every problem, exit 1, no traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mailctl.cli.main import cli

REPO = Path(__file__).resolve().parents[3]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["validate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_valid_config_prints_files_and_resource_counts() -> None:
    code, out, err = run("-f", str(REPO / "examples/basic/mailctl.yaml"))
    assert (code, err) == (0, "")
    assert out == "OK: 1 file, 8 resources (1 pod, 2 domain, 2 inbox, 3 api_key)\n"


def test_default_is_mailctl_yaml_in_the_current_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = run()
    assert code == 1 and "mailctl.yaml:1:1: no such file or directory" in err
    (tmp_path / "mailctl.yaml").write_text("version: 1\npods: {a: {}}\n")
    assert run() == (0, "OK: 1 file, 1 resource (1 pod)\n", "")


def test_missing_paths_and_empty_directories_are_reported_together(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    code, out, err = run("-f", str(tmp_path / "nope.yaml"), "-f", str(tmp_path / "empty"))
    assert code == 1 and out == "" and "Traceback" not in err
    assert err.splitlines() == [
        "Error: 2 problems in the configuration:",
        f"{tmp_path}/empty:1:1: directory contains no *.yaml or *.yml files",
        f"{tmp_path}/nope.yaml:1:1: no such file or directory",
    ]


def test_unreadable_path_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    link = tmp_path / "loop.yaml"
    link.symlink_to(link)  # a symlink loop: exists() is False, open() fails
    code, _, err = run("-f", str(link))
    assert code == 1 and "Traceback" not in err and f"{link}:1:1:" in err


def test_problems_in_a_valid_file_and_a_broken_file_are_all_reported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("version: 1\npods: {a: {nmae: x}}\n")
    (tmp_path / "b.yaml").write_text("version: 1\npods: [\n")
    code, _, err = run("-f", str(tmp_path))
    assert code == 1
    assert "a.yaml:2:12: pods.a.nmae: unknown field `nmae`; did you mean `name`?" in err
    assert "b.yaml:3:1: YAML syntax error" in err


def test_references_into_a_broken_file_are_not_reported_as_dangling(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "version: 1\nwebhooks: {w: {url: 'https://h.example/', event_types: [message.sent], pods: [p]}}\n"
    )
    (tmp_path / "b.yaml").write_text("version: 1\npods: {p: {nmae: x}}\n")
    code, _, err = run("-f", str(tmp_path))
    assert code == 1 and "not declared" not in err and "unknown field `nmae`" in err
