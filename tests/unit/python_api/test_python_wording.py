"""The Python API speaks Python: its errors name its arguments, not the CLI's flags, and what the
CLI prints as a warning on stderr reaches application code through ``warnings``."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from mailctl import Project
from mailctl.errors import UsageError
from mailctl.project import SkippedFile


def test_a_file_a_directory_holds_but_mailctl_leaves_alone_is_a_warning_not_stderr(tmp_path, capfd):
    config = tmp_path / "config"
    config.mkdir()
    (config / "mailctl.yaml").write_text("version: 1\npods:\n  one: {name: One}\n")
    (config / "compose.yaml").write_text("services:\n  web: {image: nginx}\n")
    with pytest.warns(SkippedFile, match=r"skipped .*compose\.yaml") as caught:
        state = Project(files=[config], sandbox=tmp_path / "sb.db").load()
    assert list(state.resources) == ["pod/one"]
    assert caught[0].filename == __file__  # the caller's line, as warnings filters by module expect
    assert capfd.readouterr().err == ""


def test_keys_without_somewhere_for_their_secrets_name_the_secrets_argument(tmp_path):
    config = {"version": 1, "pods": {"w": {"name": "W", "api_keys": {"backend": {}}}}}
    project = Project(config=config, sandbox=Path(tmp_path / "sb.db"))
    with warnings.catch_warnings(), pytest.raises(UsageError) as refused:
        project.apply(project.plan())
    assert "secrets=" in str(refused.value) and "--secrets-out" not in str(refused.value)
