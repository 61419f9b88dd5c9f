"""--changed-since reads the config at REF exactly as committed, from a repository that may be
hostile: nothing its config names is run, nothing it marks for export changes what is read, its
symlinks are followed in REF's tree and never out of the repository, and only config files are
read. Errors about REF name the git command that helps, quoted, and never print REF raw."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest

from mailctl.config import changed_since
from mailctl.config.git_revision import Commit
from mailctl.config.pipeline import load_config
from mailctl.errors import UsageError


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def pod(client_id: str, name: str) -> str:
    return f"version: 1\npods:\n  {client_id}:\n    name: {name}\n"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """cfg/a.yaml (tenant-a) and cfg/b.yaml (tenant-b), committed on main."""
    repo = tmp_path / "repo"
    (repo / "cfg").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "cfg" / "a.yaml").write_text(pod("tenant-a", "A"))
    (repo / "cfg" / "b.yaml").write_text(pod("tenant-b", "B"))
    commit(repo)
    return repo


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def at(repo: Path, ref: str, *paths: str | Path) -> dict[str, dict[str, object]]:
    """address -> attributes of the config at ``ref``."""
    files = [str(p) for p in paths] or [str(repo / "cfg")]
    state = changed_since.load_at(changed_since.resolve(ref, files), files)
    assert state is not None, f"none of {files} existed at {ref}"
    return {address: resource.attrs for address, resource in state.resources.items()}


def refused(repo: Path, ref: str, *paths: str | Path) -> str:
    with pytest.raises(UsageError) as caught:
        at(repo, ref, *paths)
    return str(caught.value)


# -- nothing the repository configures runs, and what is read is what was committed ----------


@pytest.mark.parametrize("driver", ["smudge", "process"])
def test_a_filter_driver_of_the_repository_is_never_run(repo: Path, tmp_path: Path, driver: str):
    marker = tmp_path / "ran"
    command = f"touch {marker}; cat" if driver == "smudge" else f"touch {marker}"
    git(repo, "config", f"filter.evil.{driver}", command)
    (repo / ".git" / "info" / "attributes").write_text("cfg/*.yaml filter=evil\n")
    assert at(repo, "HEAD")["pod/tenant-b"] == {"name": "B"}
    assert not marker.exists()


def test_export_attributes_do_not_change_what_is_read(repo: Path):
    (repo / "cfg" / "b.yaml").write_text(pod("tenant-b", '"B $Format:%h$"'))
    (repo / ".gitattributes").write_text("cfg/b.yaml export-ignore\ncfg/*.yaml export-subst ident\n")
    commit(repo)
    assert at(repo, "HEAD")["pod/tenant-b"] == {"name": "B $Format:%h$"}
    assert at(repo, "HEAD", repo / "cfg" / "b.yaml")["pod/tenant-b"] == {"name": "B $Format:%h$"}


def test_a_symlinked_config_path_is_followed_as_it_was_at_ref(tmp_path: Path):
    repo = tmp_path / "repo"
    (repo / "v1").mkdir(parents=True)
    (repo / "v2").mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "v1" / "a.yaml").write_text(pod("tenant-a", "Old"))
    (repo / "v2" / "a.yaml").write_text(pod("tenant-a", "New"))
    (repo / "live").symlink_to("v1")
    commit(repo)
    (repo / "live").unlink()
    (repo / "live").symlink_to("v2")
    commit(repo)
    assert at(repo, "HEAD~1", repo / "live")["pod/tenant-a"] == {"name": "Old"}
    assert at(repo, "HEAD~1", repo / "live" / "a.yaml")["pod/tenant-a"] == {"name": "Old"}
    assert at(repo, "HEAD", repo / "live")["pod/tenant-a"] == {"name": "New"}


def test_git_dir_set_for_another_checkout_does_not_change_the_repository_read(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    (repo / "prod").mkdir()
    (repo / "prod" / "p.yaml").write_text(pod("tenant-prod", "P"))
    commit(repo)
    worktree = tmp_path / "worktree"
    git(repo, "worktree", "add", "-q", str(worktree))
    monkeypatch.setenv("GIT_DIR", git(worktree, "rev-parse", "--absolute-git-dir").strip())
    monkeypatch.chdir(worktree)
    assert sorted(at(worktree, "HEAD", worktree / "cfg")) == ["pod/tenant-a", "pod/tenant-b"]


# -- only config files are read; symlinks stay inside the commit --------------------------------


def test_only_config_files_are_read_and_each_is_cut_at_the_size_limit(repo: Path, monkeypatch: pytest.MonkeyPatch):
    (repo / "cfg" / "dump.bin").write_bytes(b"\0" * 3_000_000)
    (repo / "cfg" / ".hidden").mkdir()
    (repo / "cfg" / ".hidden" / "x.yaml").write_text(pod("tenant-hidden", "H"))
    (repo / "cfg" / "big.yaml").write_text("version: 1\n# " + "x" * 6_000_000 + "\n")
    commit(repo)
    read: list[str] = []
    copy_blob = changed_since_git_copy_blob(monkeypatch, read)
    message = refused(repo, "HEAD")
    assert "HEAD:cfg/big.yaml:1:1: file is larger than 5000000 bytes" in message
    assert sorted(read) == ["cfg/a.yaml", "cfg/b.yaml", "cfg/big.yaml"], copy_blob


def changed_since_git_copy_blob(monkeypatch: pytest.MonkeyPatch, read: list[str]) -> object:
    """Record the path of every blob copied out of git."""
    from mailctl.config import git_revision

    original = git_revision._copy_blob

    def recording(stream, out, relative):  # type: ignore[no-untyped-def]
        read.append(relative)
        original(stream, out, relative)

    monkeypatch.setattr(git_revision, "_copy_blob", recording)
    return original


def test_a_symlink_inside_the_repository_is_followed_in_the_commit(repo: Path):
    (repo / "common").mkdir()
    (repo / "common" / "shared.yaml").write_text(pod("tenant-shared", "S"))
    (repo / "cfg" / "shared.yaml").symlink_to("../common/shared.yaml")
    (repo / "cfg" / "helper.sh").symlink_to("../../elsewhere/common.sh")  # not config: never read
    commit(repo)
    assert sorted(at(repo, "HEAD")) == ["pod/tenant-a", "pod/tenant-b", "pod/tenant-shared"]


@pytest.mark.parametrize("target", ["/etc/hostname", "../../outside.yaml"])
def test_a_config_symlink_out_of_the_repository_is_refused_by_name(repo: Path, target: str):
    (repo / "cfg" / "out.yaml").symlink_to(target)
    commit(repo)
    message = refused(repo, "HEAD")
    assert "HEAD:cfg/out.yaml cannot be read" in message and "out of the repository" in message


def test_a_symlink_loop_is_refused_by_name(repo: Path):
    (repo / "cfg" / "l1.yaml").symlink_to("l2.yaml")
    (repo / "cfg" / "l2.yaml").symlink_to("l1.yaml")
    commit(repo)
    assert "symlink loop" in refused(repo, "HEAD")


def test_nothing_is_written_outside_the_private_copy(repo: Path, tmp_path: Path):
    into = tmp_path / "private"
    into.mkdir()
    Commit(str(repo), git(repo, "rev-parse", "HEAD").strip()).copy(["cfg", "."], str(into))
    files = sorted(str(p.relative_to(into)) for p in into.rglob("*") if p.is_file())
    assert files == ["cfg/a.yaml", "cfg/b.yaml"]  # named twice (cfg, and the top holding it): copied once
    assert not any(p.is_symlink() for p in into.rglob("*"))


# -- file names git would read as something else --------------------------------------------


def test_file_names_are_literal_paths(repo: Path):
    (repo / "..x.yaml").write_text(pod("tenant-x", "X"))
    (repo / ":c.yaml").write_text(pod("tenant-c", "C"))
    (repo / "c.yaml").write_text(pod("tenant-other", "O"))
    commit(repo)
    assert sorted(at(repo, "HEAD", repo / "..x.yaml")) == ["pod/tenant-x"]
    assert sorted(at(repo, "HEAD", repo / ":c.yaml")) == ["pod/tenant-c"]


# -- REF: what is wrong, and the command that helps ------------------------------------------


def test_a_ref_with_a_control_character_is_refused_escaped(repo: Path):
    message = refused(repo, "HEAD\n::warning::x")
    assert "\n" not in message and "HEAD\\n::warning::x" in message


def test_an_unknown_branch_of_a_full_clone_is_fetched_without_making_it_shallow(repo: Path, tmp_path: Path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{repo}", str(clone))
    message = refused(clone, "origin/nothere", clone / "cfg")
    assert "git fetch origin +refs/heads/nothere:refs/remotes/origin/nothere" in message
    assert "--depth" not in message


def test_an_unknown_bare_name_in_a_shallow_clone_is_fetched_as_a_tracking_branch(repo: Path, tmp_path: Path):
    git(repo, "branch", "feature")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", "--single-branch", f"file://{repo}", str(clone))
    message = refused(clone, "feature", clone / "cfg")
    fetch = "git fetch --depth=1 origin +refs/heads/feature:refs/remotes/origin/feature"
    assert fetch in message and "--changed-since origin/feature" in message
    git(clone, *fetch.split()[1:])  # the command, as printed, makes the suggested REF work
    assert sorted(at(clone, "origin/feature", clone / "cfg")) == ["pod/tenant-a", "pod/tenant-b"]


def test_a_name_known_only_as_a_tracking_branch_is_named(repo: Path, tmp_path: Path):
    git(repo, "branch", "feature")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{repo}", str(clone))
    message = refused(clone, "feature~1", clone / "cfg")
    assert "but knows origin/feature: pass --changed-since 'origin/feature~1'" in message


def test_a_misspelt_name_counted_back_is_an_unknown_name_not_a_short_history(repo: Path):
    message = refused(repo, "mian~1")
    assert "git knows no commit mian~1" in message and "goes back further" not in message


def test_a_ref_naming_a_tree_says_so(repo: Path):
    assert "HEAD^{tree} names a tree, not a commit" in refused(repo, "HEAD^{tree}")


@pytest.mark.parametrize("ref", ["-p", "--output=/tmp/x", "a..b"])
def test_a_ref_that_is_no_name_suggests_no_command(repo: Path, ref: str):
    message = refused(repo, ref)
    assert "no branch, tag or commit has that name" in message and "git fetch" not in message


def test_a_branch_name_with_shell_characters_is_quoted_in_the_command(repo: Path, tmp_path: Path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", f"file://{repo}", str(clone))
    message = refused(clone, "origin/a;touch", clone / "cfg")
    assert "git fetch origin '+refs/heads/a;touch:refs/remotes/origin/a;touch'" in message


def test_git_refusing_a_repository_of_another_user_says_why(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    message = refused(repo, "HEAD")
    assert "owned by another user" in message and "safe.directory" in message


def test_a_remote_branch_in_a_repository_without_remotes_names_the_remote_to_add(repo: Path):
    message = refused(repo, "origin/main")
    assert "git remote add origin URL, git fetch origin +refs/heads/main:refs/remotes/origin/main" in message
    assert "origin/origin" not in message


def test_a_config_none_of_whose_paths_existed_at_ref_is_none_not_an_empty_config(repo: Path):
    """None, so that --changed-since can say the config is new rather than diff an empty one."""
    (repo / "new").mkdir()
    (repo / "new" / "c.yaml").write_text(pod("tenant-c", "C"))
    files = [str(repo / "new")]
    assert changed_since.load_at(changed_since.resolve("main", files), files) is None
    assert at(repo, "main", repo / "cfg", repo / "new") != {}  # one path there: that one is read


@pytest.mark.parametrize("path", ["cfg", "cfg/a.yaml"])
def test_a_partial_clone_missing_refs_files_names_the_git_command_that_fetches_them(
    repo: Path, tmp_path: Path, path: str
):
    """A partial clone (``git clone --filter=blob:none``, as CI checkouts may be) has REF's commit
    but not its files' content, and mailctl fetches nothing itself: the error says so and names
    the git command that fetches them, which then makes the same REF work."""
    (repo / "cfg" / "a.yaml").write_text(pod("tenant-a", "Later"))
    commit(repo)
    git(repo, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{repo}", str(clone))
    message = refused(clone, "HEAD~1", clone / path)
    commit_id = git(clone, "rev-parse", "HEAD~1").strip()
    fetch = f"git -C {clone} grep -c '' {commit_id} -- {path}"
    assert message.startswith(f"--changed-since HEAD~1 ({commit_id[:12]}): cannot read the config at it: ")
    assert message.endswith(
        f"{clone} is a partial clone and lacks files of HEAD~1, which mailctl does not fetch. Fetch them first: {fetch}"
    ), message
    subprocess.run(shlex.split(fetch), check=True, capture_output=True)  # the command, as printed
    assert at(clone, "HEAD~1", clone / path)["pod/tenant-a"] == {"name": "A"}


def test_a_missing_object_outside_a_partial_clone_suggests_no_fetch(repo: Path):
    """A blob lost from a full repository (damaged, not filtered) is an error naming git's
    complaint; fetching would not restore it, so no fetch is suggested."""
    (repo / "cfg" / "a.yaml").write_text(pod("tenant-a", "Later"))
    commit(repo)
    blob = git(repo, "rev-parse", "HEAD~1:cfg/a.yaml").strip()
    (repo / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    message = refused(repo, "HEAD~1", repo / "cfg")
    assert message.startswith("--changed-since HEAD~1 (") and "cannot read the config at it: " in message
    assert "partial clone" not in message and "Fetch" not in message


def test_a_full_commit_id_git_lacks_names_the_fetch_of_that_commit(repo: Path, tmp_path: Path):
    """The usual CI case: the pull request's base commit id passed to a shallow checkout that lacks
    it. `rev-parse --verify` takes any full id as a name, so this was a traceback (GitFailed out of
    `cat-file -t`); now the error names the fetch, which then makes the same REF work."""
    (repo / "cfg" / "a.yaml").write_text(pod("tenant-a", "Later"))
    commit(repo)
    base = git(repo, "rev-parse", "HEAD~1").strip()
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{repo}", str(clone))
    message = refused(clone, base, clone / "cfg")
    fetch = f"git fetch --depth=1 origin {base}"
    assert message == (
        f"--changed-since {base}: git knows no commit {base} in {clone} (a shallow CI clone has only what was "
        f"fetched). Fetch it first: {fetch}"
    )
    git(clone, *fetch.split()[1:])  # the command, as printed
    assert at(clone, base, clone / "cfg")["pod/tenant-a"] == {"name": "A"}


def test_a_full_commit_id_no_repository_has_is_an_error_not_a_traceback(repo: Path):
    missing = "1234567890" * 4
    message = refused(repo, missing, repo / "cfg")
    assert message == (
        f"--changed-since {missing}: git knows no commit {missing} in {repo}, and it has no remote to fetch it "
        f"from: git remote add origin URL, git fetch origin {missing}"
    )


def test_an_abbreviated_commit_id_git_lacks_asks_for_the_full_id_not_a_branch(repo: Path, tmp_path: Path):
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{repo}", str(clone))
    assert refused(clone, "1234567", clone / "cfg") == (
        f"--changed-since 1234567: git knows no commit 1234567 in {clone} (a shallow CI clone has only what was "
        "fetched): if it is an abbreviated commit id, fetch the commit by its full id first: "
        "git fetch --depth=1 origin FULL_ID, then pass --changed-since FULL_ID"
    )


def test_a_link_to_a_directory_inside_the_config_is_followed_at_ref_as_in_the_working_tree(tmp_path: Path):
    """The loader follows a link to a directory (its files are config like any other); at REF it
    was left out, so with nothing changed its pods read as added, and a pod removed from it was
    never selected for deletion."""
    repo = tmp_path / "repo"
    (repo / "cfg" / "sub").mkdir(parents=True)
    (repo / "shared").mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "cfg" / "main.yaml").write_text(pod("t-a", "A"))
    (repo / "cfg" / "sub" / "b.yaml").write_text(pod("t-b", "B"))
    (repo / "shared" / "s.yaml").write_text("version: 1\npods:\n  t-s1: {name: S1}\n  t-s2: {name: S2}\n")
    (repo / "cfg" / "shared").symlink_to("../shared")
    (repo / "cfg" / "again").symlink_to("sub")  # a directory searched anyway: read once
    (repo / "cfg" / "top").symlink_to("..")  # holds the directory searched: not entered
    commit(repo)
    working = load_config([str(repo / "cfg")], on_skip=None).state.resources
    assert sorted(working) == ["pod/t-a", "pod/t-b", "pod/t-s1", "pod/t-s2"]
    assert sorted(at(repo, "HEAD", repo / "cfg")) == sorted(working)


@pytest.mark.parametrize("ref", ["^HEAD", "^main"])
def test_a_negated_ref_is_refused_not_read_as_a_missing_config(repo: Path, ref: str):
    """`rev-parse --verify '^HEAD^{commit}'` answers `^<id>`: taken for the commit, every path read
    as absent at it and the whole config planned, exit 0 (a targeted apply made a full one)."""
    assert refused(repo, ref, repo / "cfg") == f"--changed-since {ref}: REF must name one commit, not exclude one"


def test_a_commit_found_by_its_message_is_read(repo: Path):
    (repo / "cfg" / "a.yaml").write_text(pod("tenant-a", "Later"))
    commit(repo, "later")
    assert at(repo, ":/change", repo / "cfg")["pod/tenant-a"] == {"name": "A"}  # the first commit's message


def test_a_ref_too_long_for_a_command_line_is_an_error_not_a_traceback(repo: Path):
    message = refused(repo, "a" * 200_000, repo / "cfg")
    assert message.startswith("--changed-since aaaa") and "200000 characters" in message


def test_a_git_that_cannot_be_run_is_an_error_not_a_traceback(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").write_text("#!/bin/sh\n")  # no execute bit: even root may not run it
    monkeypatch.setenv("PATH", str(bin_dir))
    assert refused(repo, "HEAD", repo / "cfg") == "--changed-since: git could not be run: Permission denied"


def test_a_config_directory_with_no_config_file_at_ref_is_a_config_absent_there(tmp_path: Path):
    """It held only a README at REF: "does not load ... no such file or directory" was false (the
    directory was there); it is now as absent as a directory that did not exist."""
    repo = tmp_path / "repo"
    (repo / "cfg").mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    (repo / "cfg" / "README.md").write_text("config goes here\n")
    commit(repo)
    files = [str(repo / "cfg")]
    assert changed_since.load_at(changed_since.resolve("HEAD", files), files) is None


def test_a_submodule_inside_the_config_at_ref_is_refused_by_name(repo: Path, tmp_path: Path):
    """Its files are another repository's: read as absent at REF, every pod in it looked added and
    a removal in it was missed. Refused, naming it."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / "s.yaml").write_text(pod("tenant-s", "S"))
    commit(other)
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(other), "cfg/sub")
    commit(repo)
    assert refused(repo, "HEAD", repo / "cfg") == (
        f"--changed-since HEAD ({git(repo, 'rev-parse', 'HEAD').strip()[:12]}): HEAD:cfg/sub cannot be read: "
        "a git submodule (another repository's files): keep the config out of submodules to use --changed-since"
    )


def test_a_repository_of_another_user_names_the_repository_to_trust_not_the_config_directory(
    repo: Path, monkeypatch: pytest.MonkeyPatch
):
    """Asked from the config's directory (cfg), the advice named cfg, which git does not look at:
    adding it changed nothing. It names the repository's top, as git does."""
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    message = refused(repo, "HEAD", repo / "cfg")
    assert message == (
        f"--changed-since: git refuses the repository {repo}: it is owned by another user. If you trust it: "
        f"git config --global --add safe.directory {repo}"
    )


def test_a_ref_naming_a_file_says_it_names_a_blob(repo: Path):
    assert refused(repo, "HEAD:cfg/a.yaml", repo / "cfg") == (
        "--changed-since HEAD:cfg/a.yaml: HEAD:cfg/a.yaml names a blob, not a commit"
    )


def test_an_empty_ref_is_refused_as_empty(repo: Path):
    assert refused(repo, "", repo / "cfg") == "--changed-since '': REF is empty: name a branch, tag or commit"


def test_an_upstream_not_configured_says_so_not_that_no_name_matches(repo: Path):
    message = refused(repo, "@{u}", repo / "cfg")
    assert message == (
        f"--changed-since @{{u}}: git cannot resolve @{{u}} in {repo}: no upstream configured for branch 'main'"
    )


@pytest.mark.parametrize("ref", ["main@{5}", "@{-1}"])
def test_a_reflog_entry_git_lacks_says_a_ci_clone_has_few(repo: Path, ref: str):
    message = refused(repo, ref, repo / "cfg")
    assert message.startswith(f"--changed-since {ref}: git cannot resolve {ref} in {repo}: ")
    assert "reflog" in message and "no branch, tag or commit has that name" not in message


def test_a_git_lfs_pointer_at_ref_is_refused_by_name_not_read_as_config(repo: Path):
    """Git LFS commits a pointer and smudges the content into the working tree by a filter, which
    mailctl never runs: at REF the file would read as something else entirely."""
    pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "0" * 64 + "\nsize 61\n"
    (repo / "cfg" / "b.yaml").write_text(pointer)
    git(repo, "commit", "-q", "-am", "b in LFS")
    (repo / "cfg" / "b.yaml").write_text(pod("tenant-b", "B"))  # as the LFS filter checks it out
    message = refused(repo, "HEAD", repo / "cfg")
    assert "HEAD:cfg/b.yaml cannot be read: a Git LFS pointer" in message
