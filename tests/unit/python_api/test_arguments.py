"""The Python API's arguments are checked as the CLI's options are: a value the CLI would refuse
is a ``UsageError`` naming the argument, before any request, never a TypeError or a busy loop."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from mailctl import Project
from mailctl.cli.scale_options import PARALLELISM_CAP
from mailctl.errors import UsageError
from mailctl.project_args import MAX_PARALLELISM

CONFIG = {"version": 1, "pods": {"args": {"name": "Args"}}}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    return Project(config=CONFIG, sandbox=tmp_path / "sb.db")


@pytest.mark.parametrize(
    ("argument", "value"),
    [
        ("lock_timeout", math.nan),
        ("lock_timeout", math.inf),
        ("lock_timeout", -1),
        ("lock_timeout", "3"),
        ("lock_timeout", True),
        pytest.param("lock_timeout", 10**400, id="lock_timeout-10**400"),  # no float holds it
        ("wait_for_domains", -0.5),
        ("wait_for_domains", math.nan),
        ("parallelism", 0),
        ("parallelism", -1),
        ("parallelism", "4"),
        ("parallelism", 1.5),
        ("parallelism", True),
        ("parallelism", MAX_PARALLELISM + 1),
        ("force", "yes"),
        ("allow_data_loss", "false"),  # a string from an environment variable must not lift the gate
        ("allow_data_loss", 1),
    ],
)
def test_apply_refuses_an_argument_the_cli_would_refuse_before_anything_happens(project, argument, value):
    plan = project.plan()
    with pytest.raises(UsageError, match=argument):
        project.apply(plan, **{argument: value})
    assert [c.action for c in project.plan().changes] == ["create"]


def test_apply_takes_whole_numbers_for_seconds(project):
    assert project.apply(project.plan(), lock_timeout=3, wait_for_domains=1, parallelism=4).ok


@pytest.mark.parametrize(
    "timeout", [0, -1, math.nan, math.inf, "30", 86_401, None, pytest.param(10**400, id="10**400")]
)
def test_project_refuses_a_timeout_the_cli_would_refuse(tmp_path, timeout):
    with pytest.raises(UsageError, match="timeout"):
        Project(config=CONFIG, sandbox=tmp_path / "sb.db", timeout=timeout)


def test_the_parallelism_cap_is_the_cli_one():
    assert MAX_PARALLELISM == PARALLELISM_CAP


@pytest.mark.parametrize("as_given", [str, Path])
def test_files_may_be_one_path(tmp_path, as_given):
    (tmp_path / "mailctl.yaml").write_text("version: 1\npods:\n  one: {name: One}\n")
    project = Project(files=as_given(tmp_path / "mailctl.yaml"), sandbox=tmp_path / "sb.db")
    assert list(project.load().resources) == ["pod/one"]


@pytest.mark.parametrize("files", [5, b"mailctl.yaml", [b"mailctl.yaml"], [1], {"a": 1}])
def test_files_that_are_not_paths_are_refused(tmp_path, files):
    with pytest.raises(UsageError, match="files"):
        Project(files=files, sandbox=tmp_path / "sb.db")


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"target": None}, "target"),
        ({"target": [1]}, "target"),
        ({"target": b"pod/args"}, "target"),
        ({"exclude": [None]}, "exclude"),
        ({"shard": 1}, "shard"),
        ({"shard": "1/0"}, "shard"),
    ],
)
def test_plan_refuses_arguments_that_are_not_patterns_or_a_shard(project, arguments: dict[str, Any], named):
    with pytest.raises(UsageError, match=named):
        project.plan(**arguments)


def test_drift_refuses_a_shard_that_is_not_k_of_n(project):
    with pytest.raises(UsageError, match="shard"):
        project.drift(shard=2)


@pytest.mark.parametrize(
    ("arguments", "named"),
    [
        ({"rate_limit": True}, "rate_limit"),
        pytest.param({"rate_limit": 10**400}, "rate_limit", id="rate_limit-10**400"),
        ({"api_key": 12345}, "api_key"),
        ({"endpoint": 123, "api_key": "am_k"}, "endpoint"),
    ],
)
def test_project_refuses_arguments_of_the_wrong_kind_when_made(tmp_path, arguments: dict[str, Any], named):
    """Each was taken (True as 1 request a second) or failed later, at the first plan, with an
    AttributeError or OverflowError instead of a UsageError naming it."""
    sandbox = {} if "endpoint" in arguments else {"sandbox": tmp_path / "sb.db"}
    with pytest.raises(UsageError, match=named):
        Project(config=CONFIG, **sandbox, **arguments)


def test_no_files_at_all_is_refused_not_read_as_the_working_directorys_config(tmp_path, monkeypatch):
    """files=[] (a glob of tenant files that matched nothing) read ./mailctl.yaml, the CLI's
    default without -f: a service planned whatever config lay in its working directory."""
    (tmp_path / "mailctl.yaml").write_text("version: 1\nmanage: {pods: {client_id_prefix: t-}}\npods: {}\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="files is empty"):
        Project(files=sorted((tmp_path / "tenants").glob("*.yaml")), sandbox=":memory:")


@pytest.mark.parametrize("files", ["", [str(Path("a.yaml")), ""]])
def test_an_empty_path_is_refused_naming_files(tmp_path, files):
    with pytest.raises(UsageError, match="files holds an empty path"):
        Project(files=files, sandbox=":memory:")
