"""``--changed-since REF``'s lines that the mutation sweep of ``config/changed_since.py`` found
unpinned: each test names the line whose deletion (or negated ``if``) it catches
(``.ci/mutate.py --worktree --sweep src/mailctl/config/changed_since.py
tests/unit/config/test_changed_since_git.py tests/e2e/test_e2e_changed_since.py
tests/unit/cli/test_changed_since_sweep.py tests/unit/plan/test_changed.py``: 102 mutations,
84 killed, 0 timeouts, 18 survivors before this file; 17 pinned here).

Survivor judged equivalent, not pinned: ``assert match is not None`` in ``_name_and_steps`` (the
pattern ``(.*?)(...)*`` matches any text, so the assertion never fires).

Every repository is made in ``tmp_path``, its committer set in the repository itself. ``REF`` and
the config paths are given as the command line gives them: ``resolve`` then ``load_at``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from git_repo import at, commit, git, new_repo, pod, refused

from mailctl.config import changed_since


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cfg/a.yaml committed twice on main (name Old, then New); git never looks above tmp_path."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = new_repo(tmp_path / "repo")
    (repo / "cfg").mkdir()
    (repo / "cfg" / "a.yaml").write_text(pod("tenant-a", "Old"))
    commit(repo, "old")
    (repo / "cfg" / "a.yaml").write_text(pod("tenant-a", "New"))
    commit(repo, "new")
    return repo


def shallow_clone(source: Path, clone: Path) -> Path:
    git(source.parent, "clone", "-q", "--depth=1", "--single-branch", f"file://{source}", str(clone))
    return clone


# -- which paths are read, and which are refused ---------------------------------------------


def test_a_relative_path_outside_the_repository_is_refused_by_its_absolute_path(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Pins ``paths = [os.path.abspath(p) ...]`` in ``resolve``: without it the relative paths
    were asked from the wrong directory, and the error named ``../..`` as not a repository
    instead of the file outside it."""
    (tmp_path / "outside.yaml").write_text(pod("tenant-x", "X"))
    monkeypatch.chdir(repo / "cfg")
    message = refused("HEAD", "a.yaml", "../../outside.yaml")
    assert message == f"--changed-since HEAD: {tmp_path}/outside.yaml is outside the git repository {repo}"


def test_a_path_outside_the_repository_is_refused_before_ref_is_looked_up(repo: Path, tmp_path: Path):
    """Pins ``_in_repository(path, top, ref)`` in ``resolve`` (and the ``is outside the git
    repository`` refusal, its ``if`` and the ``relpath`` it tests): the path the repository does
    not hold is the problem to report, not a REF that is misspelt as well."""
    (tmp_path / "outside.yaml").write_text(pod("tenant-x", "X"))
    message = refused("mian", repo / "cfg", tmp_path / "outside.yaml")
    assert message == f"--changed-since mian: {tmp_path}/outside.yaml is outside the git repository {repo}"


def test_a_path_reaching_the_repository_through_a_link_from_outside_is_read_at_ref(repo: Path, tmp_path: Path):
    """Pins the fallback of ``_in_repository`` (``relative = os.path.relpath(...)``, the
    ``startswith(os.pardir ...)`` test and ``return relative...``): a directory linked from
    outside the repository counts where the link leads now, and is read as it was at REF."""
    (tmp_path / "link").symlink_to(repo / "cfg")
    assert at("HEAD~1", tmp_path / "link") == {"pod/tenant-a": {"name": "Old"}}
    assert at("HEAD~1", tmp_path / "link" / "a.yaml") == {"pod/tenant-a": {"name": "Old"}}
    assert at("HEAD", tmp_path / "link") == {"pod/tenant-a": {"name": "New"}}


def test_a_path_whose_directory_does_not_exist_is_asked_from_the_current_directory(
    repo: Path, monkeypatch: pytest.MonkeyPatch
):
    """Pins ``return os.getcwd()`` in ``_anchor``: a config in a directory that is not there (yet)
    is looked up in the repository of the current directory, and contributes nothing at REF."""
    monkeypatch.chdir(repo)
    revision = changed_since.resolve("HEAD", ["later/new.yaml"])
    assert revision.repository == str(repo)
    assert changed_since.load_at(revision, ["later/new.yaml"]) is None


# -- the private copy ---------------------------------------------------------------------------


def test_the_private_copy_is_removed_after_loading_and_after_a_failure(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Pins ``shutil.rmtree(private, ...)`` in ``load_at``: no copy of the config at REF is left
    in the temporary directory, whether it loaded or not."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert at("HEAD", repo / "cfg") == {"pod/tenant-a": {"name": "New"}}
    assert list(scratch.iterdir()) == []
    (repo / "cfg" / "a.yaml").write_text("version: 1\npods: [oops]\n")
    commit(repo, "broken")
    assert "the config at HEAD does not load" in refused("HEAD", repo / "cfg")
    assert list(scratch.iterdir()) == []


def test_a_blob_a_partial_clone_lacks_is_an_error_not_a_crash(repo: Path, tmp_path: Path):
    """Pins ``raise UsageError(... cannot read the config at it ...)`` for a GitFailed from the
    copy: a partial clone has no blob of REF's files (and nothing is fetched lazily)."""
    git(repo, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{repo}", str(clone))
    commit_id = git(clone, "rev-parse", "HEAD~1").strip()
    message = refused("HEAD~1", clone / "cfg")
    assert message.startswith(
        f"--changed-since HEAD~1 ({commit_id[:12]}): cannot read the config at it: git cat-file could not read "
        "cfg/a.yaml"
    )


# -- an unknown REF: what is wrong, and the git command that helps ------------------------------


def test_an_unknown_name_in_a_repository_without_remotes_says_which_remote_to_add(repo: Path):
    """Pins ``if not remotes`` and its message after ``then pass --changed-since`` in
    ``_unknown_ref``, and ``if shallow`` before the shallow-clone note (a full clone gets none)."""
    assert refused("mian~1", repo / "cfg") == (
        f"--changed-since mian~1: git knows no commit mian~1 in {repo}, and it has no remote to fetch it from: "
        "git remote add origin URL, git fetch origin +refs/heads/mian:refs/remotes/origin/mian, "
        "then pass --changed-since 'origin/mian~1'"
    )


def test_an_unknown_name_in_a_shallow_clone_says_the_clone_has_only_what_was_fetched(repo: Path, tmp_path: Path):
    """Pins ``unknown += " (a shallow CI clone has only what was fetched)"`` in ``_unknown_ref``."""
    clone = shallow_clone(repo, tmp_path / "clone")
    assert refused("a..b", clone / "cfg") == (
        f"--changed-since a..b: git knows no commit a..b in {clone} (a shallow CI clone has only what was fetched): "
        "no branch, tag or commit has that name"
    )


@pytest.mark.parametrize(("ref", "deepen"), [("HEAD~3", 3), ("HEAD^^", 2), ("HEAD~2^", 3), ("HEAD^0~1", 1)])
def test_a_shallow_clone_too_short_for_ref_is_deepened_by_the_steps_back(
    repo: Path, tmp_path: Path, ref: str, deepen: int
):
    """Pins the counting of ``_name_and_steps``: ``back += int(step[1] or 1)`` for ``~N``,
    ``back += 1 if step[2] != "0" else 0`` for ``^N`` and the ``if`` telling them apart; the
    fetch suggested deepens the clone by as many commits as REF goes back."""
    clone = shallow_clone(repo, tmp_path / "clone")
    assert refused(ref, clone / "cfg") == (
        f"--changed-since {ref}: git knows no commit {ref} in {clone}: the shallow clone's history stops before "
        f"it. Fetch more of it first: git fetch --deepen={deepen} origin"
    )


def test_an_unknown_branch_counted_back_in_a_shallow_clone_is_fetched_deep_enough(repo: Path, tmp_path: Path):
    """Pins ``back += int(step[1] or 1)``: the depth fetched for ``feature~1`` holds the commit
    behind the branch's tip, so the suggested REF then resolves."""
    git(repo, "branch", "feature")
    clone = shallow_clone(repo, tmp_path / "clone")
    message = refused("feature~1", clone / "cfg")
    fetch = "git fetch --depth=2 origin +refs/heads/feature:refs/remotes/origin/feature"
    assert f"If it is a branch of origin, fetch it first: {fetch}, then pass --changed-since 'origin/feature~1'" in (
        message
    )
    git(clone, *fetch.split()[1:])
    assert at("origin/feature~1", clone / "cfg") == {"pod/tenant-a": {"name": "Old"}}


def test_a_directory_outside_any_repository_names_gits_complaint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Pins ``return (fatal or lines or ["git failed"])[0]`` in ``_git_says``: the error says
    what git said, not ``None``."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "a.yaml").write_text(pod("tenant-a", "A"))
    assert refused("main", loose / "a.yaml") == (
        f"--changed-since: {loose} is not inside a git repository "
        "(fatal: not a git repository (or any of the parent directories): .git)"
    )
