"""Which config files a sparse checkout left out: exactly those the loader's walk would read."""

from __future__ import annotations

from pathlib import Path

import pytest
from git_repo import commit, git, new_repo, pod

from mailctl.config import sparse_checkout
from mailctl.config.files import expand_paths

LEFT_OUT = "left out of the working tree by a sparse checkout"


def left_out_problems(directory: Path) -> list[str]:
    return [p.file for p in expand_paths([str(directory)]).problems if LEFT_OUT in p.message]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """``fleet/`` with a tenant in ``a/`` and ``b/``, committed, and a checkout of ``a/`` only."""
    repo = new_repo(tmp_path / "repo")
    for name in ("a", "b"):
        (repo / "fleet" / name).mkdir(parents=True)
        (repo / "fleet" / name / "tenant.yaml").write_text(pod(f"t-{name}", name))
    commit(repo)
    return repo


def sparse(repo: Path, *patterns: str) -> None:
    git(repo, "sparse-checkout", "set", "--no-cone", *patterns)


def test_a_tracked_config_file_outside_the_patterns_is_a_problem(repo: Path):
    sparse(repo, "/fleet/a/")
    assert left_out_problems(repo / "fleet") == [str(repo / "fleet" / "b" / "tenant.yaml")]


def test_cone_mode_is_the_same(repo: Path):
    git(repo, "sparse-checkout", "set", "--cone", "fleet/a")
    assert left_out_problems(repo / "fleet") == [str(repo / "fleet" / "b" / "tenant.yaml")]


def test_a_linked_worktree_is_asked_through_its_git_file(repo: Path, tmp_path: Path):
    git(repo, "worktree", "add", "-q", str(tmp_path / "linked"))
    linked = tmp_path / "linked"
    git(linked, "sparse-checkout", "set", "--no-cone", "/fleet/b/")
    assert left_out_problems(linked / "fleet") == [str(linked / "fleet" / "a" / "tenant.yaml")]
    assert left_out_problems(repo / "fleet") == []  # the main worktree has all its files


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("fleet/.hidden/tenant.yaml", pod("t-h", "h")),  # the walk never enters a hidden directory
        ("fleet/notes.txt", "not config"),  # nor reads what is not YAML
        ("fleet/skipped/tenant.yaml", pod("t-s", "s")),  # nor what .mailctlignore excludes (a directory)
        ("fleet/draft.yaml", pod("t-d", "d")),  # (a file)
    ],
)
def test_a_file_the_walk_would_not_read_is_no_problem(repo: Path, path: str, text: str):
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    (repo / "fleet" / ".mailctlignore").write_text("skipped/\ndraft.yaml\n")
    commit(repo)
    sparse(repo, "/fleet/a/", "/fleet/b/", "/fleet/.mailctlignore")
    assert not (repo / path).exists()
    assert left_out_problems(repo / "fleet") == []


def test_a_file_marked_skip_worktree_but_present_is_read_as_it_is(repo: Path):
    git(repo, "update-index", "--skip-worktree", "fleet/b/tenant.yaml")
    sparse_file = repo / ".git" / "info" / "sparse-checkout"
    sparse_file.write_text("/*\n")  # patterns exist, and include every file
    assert left_out_problems(repo / "fleet") == []


def test_a_full_checkout_runs_no_git(repo: Path, monkeypatch: pytest.MonkeyPatch):
    def never(*args: object, **kwargs: object) -> bytes:
        raise AssertionError("git run for a repository without sparse-checkout patterns")

    monkeypatch.setattr("mailctl.config.git_revision.run_git", never)
    (repo / "fleet" / "b" / "tenant.yaml").unlink()  # deleted by hand: the user's own choice
    assert left_out_problems(repo / "fleet") == []


def test_a_directory_outside_any_repository_runs_no_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("mailctl.config.git_revision.run_git", None)  # called: a TypeError
    (tmp_path / "c.yaml").write_text(pod("t-x", "x"))
    assert sparse_checkout.left_out(str(tmp_path), lambda name: True) == []


def test_without_git_on_path_the_load_goes_on(repo: Path, monkeypatch: pytest.MonkeyPatch):
    sparse(repo, "/fleet/a/")
    monkeypatch.setenv("PATH", str(repo / "no-such-dir"))
    assert left_out_problems(repo / "fleet") == []
    assert [Path(f).name for f in expand_paths([str(repo / "fleet")]).files] == ["tenant.yaml"]


def test_a_file_inside_the_patterns_deleted_by_hand_is_a_removal_not_a_problem(repo: Path):
    sparse(repo, "/fleet/")
    (repo / "fleet" / "b" / "tenant.yaml").unlink()  # the change a pull request makes
    assert left_out_problems(repo / "fleet") == []
