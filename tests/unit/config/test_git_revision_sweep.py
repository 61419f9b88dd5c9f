"""Reading the config at a git revision: the lines that the mutation sweep of
``config/git_revision.py`` found unpinned; each test names the line whose deletion it catches
(``.ci/mutate.py --worktree --sweep src/mailctl/config/git_revision.py
tests/unit/config/test_changed_since_git.py tests/e2e/test_e2e_changed_since.py
tests/unit/cli/test_changed_since_sweep.py``: 102 mutations, 82 killed, 5 timeouts (a reader
never asked or never closed: counted as killed), 15 survivors before this file; 11 pinned here,
with ``tests/unit/config/test_changed_since_revision_sweep.py`` added to the tests run).

Survivors judged equivalent, not pinned: ``super().__init__(...)`` in ``UnreadableAtRevision``
(every message is built from its ``path`` and ``why``, never from ``str()`` of it); ``return []``
in ``Commit.find`` for no paths (a fast path: ``cat-file`` asked nothing answers nothing); the
``return`` of ``_write`` for no blobs (a fast path: the reader started, asked nothing and closed
writes nothing); ``assert reader.stdin is not None ...`` (``Popen`` with pipes always has them).

Every repository is made in ``tmp_path``, its committer set in the repository itself."""

from __future__ import annotations

import io
import subprocess
import warnings
from pathlib import Path

import pytest
from git_repo import at, commit, git, new_repo, pod, refused

from mailctl.config.git_revision import GitFailed, _copy_blob, _create


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """cfg/a.yaml committed on main; git never looks above tmp_path."""
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    repo = new_repo(tmp_path / "repo")
    (repo / "cfg").mkdir()
    (repo / "cfg" / "a.yaml").write_text(pod("tenant-a", "A"))
    commit(repo)
    return repo


def test_git_not_on_path_is_a_usage_error_saying_so(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Pins ``raise UsageError("--changed-since needs git ...")`` in ``run_git``: without it a
    missing git was a crash."""
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    assert refused("HEAD", repo / "cfg") == "--changed-since needs git, which is not installed (or not on PATH)"


def test_a_blob_missing_from_a_partial_clone_is_never_fetched_from_its_remote(repo: Path, tmp_path: Path):
    """Pins ``env.update(..., GIT_NO_LAZY_FETCH="1", ...)`` in ``_environment``: reading REF
    never reaches the network for a blob a partial clone lacks; it is an error, and the blob is
    still missing afterwards."""
    (repo / "cfg" / "a.yaml").write_text(pod("tenant-a", "Later"))
    commit(repo)
    git(repo, "config", "uploadpack.allowFilter", "true")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--filter=blob:none", f"file://{repo}", str(clone))
    assert "cannot read the config at it" in refused("HEAD~1", clone / "cfg")
    assert "cannot read the config at it" in refused("HEAD~1", clone / "cfg" / "a.yaml")
    missing = git(clone, "rev-list", "--objects", "--missing=print", "--all")
    old_blob = git(repo, "rev-parse", "HEAD~1:cfg/a.yaml").strip()
    assert f"?{old_blob}" in missing.split()


def test_a_config_file_with_a_newline_in_its_name_is_refused(repo: Path):
    """Pins ``raise UsageError(... a config path with a newline ...)`` in ``Commit.find``: the
    name would be two lines of ``cat-file``'s input, and its answers no longer one per path."""
    name = "a\nb.yaml"
    (repo / "cfg" / name).write_text(pod("tenant-n", "N"))
    commit(repo)
    assert refused("HEAD", repo / "cfg" / name) == (
        "--changed-since: a config path with a newline in its name cannot be read from git"
    )


@pytest.mark.parametrize(
    ("target", "why"),
    [
        ("OUTSIDE", "a symlink out of the repository (to OUTSIDE), which git does not record"),
        ("out.yaml", "a symlink loop"),
    ],
)
def test_a_config_file_named_with_f_that_is_a_bad_symlink_at_ref_is_refused_by_name(repo: Path, target: str, why: str):
    """Pins ``raise UnreadableAtRevision(path, _why(found))`` in ``Commit.copy`` for a path named
    with ``-f`` itself (not found in a directory): a link out of the repository (to a file beside
    it, in the test's own temporary directory) or a loop."""
    outside = repo.parent / "outside.yaml"
    outside.write_text("version: 1\n")
    target, why = target.replace("OUTSIDE", str(outside)), why.replace("OUTSIDE", str(outside))
    (repo / "cfg" / "out.yaml").symlink_to(target)
    commit(repo)
    commit_id = git(repo, "rev-parse", "HEAD").strip()
    assert refused("HEAD", repo / "cfg" / "out.yaml") == (
        f"--changed-since HEAD ({commit_id[:12]}): HEAD:cfg/out.yaml cannot be read: {why}"
    )


def test_reading_the_config_at_ref_leaves_no_pipe_or_process_behind(repo: Path):
    """Pins ``reader.stdout.close()`` and ``reader.wait()`` in ``Commit._write``: the
    ``cat-file --batch`` reader is closed and reaped, so nothing is left for the garbage
    collector to warn about (an unclosed file, a subprocess still running)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert at("HEAD", repo / "cfg") == {"pod/tenant-a": {"name": "A"}}
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_an_answer_of_cat_file_cut_short_is_an_error_not_an_endless_wait():
    """Pins ``raise GitFailed("git cat-file stopped in the middle of ...")`` in ``_copy_blob``:
    a reader that dies in the middle of a blob ends the copy with an error."""

    class DyingReader(io.BytesIO):
        """A reader whose end is final: read again after it, it is an error (never an endless loop)."""

        ended = False

        def read(self, size: int | None = -1) -> bytes:
            assert not self.ended, "read again after the reader ended"
            chunk = super().read(size)
            self.ended = not chunk
            return chunk

    stream = DyingReader(b"0123456789abcdef0123456789abcdef01234567 blob 100\nversion: 1\n")
    with pytest.raises(GitFailed, match="^git cat-file stopped in the middle of cfg/a.yaml$"):
        _copy_blob(stream, io.BytesIO(), "cfg/a.yaml")


def test_a_blob_past_the_size_limit_is_copied_cut_one_byte_past_it(monkeypatch: pytest.MonkeyPatch):
    """Pins ``room -= len(chunk)`` in ``_copy_blob``: however large a file at REF is, the private
    copy holds one byte more than the loader reads (enough for it to report the file too large),
    and the whole answer is still consumed, so the next one is read from its start."""
    from mailctl.config import git_revision

    monkeypatch.setattr(git_revision, "MAX_FILE_BYTES", 10)
    monkeypatch.setattr(git_revision, "_CHUNK", 4)
    content = b"x" * 30
    stream = io.BytesIO(b"0123456789abcdef0123456789abcdef01234567 blob 30\n" + content + b"\nNEXT")
    out = io.BytesIO()
    _copy_blob(stream, out, "cfg/big.yaml")
    assert out.getvalue() == content[:11]
    assert stream.read() == b"NEXT"


def test_a_crafted_tree_naming_a_parent_directory_writes_nothing_outside_the_private_copy(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Git stores a tree entry named ``..`` if a commit is crafted with one: reading the
    repository's top at that commit takes only the plain config file, and nothing lands beside
    the private copy (the ``..`` directory is skipped as a hidden one, before ``_create``)."""
    import tempfile

    def plumbing(*args: str, stdin: str) -> str:
        done = subprocess.run(["git", *args], cwd=repo, input=stdin, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    evil = plumbing("hash-object", "-w", "--stdin", stdin=pod("tenant-evil", "E"))
    plain = plumbing("hash-object", "-w", "--stdin", stdin=pod("tenant-a", "A"))
    inner = plumbing("mktree", stdin=f"100644 blob {evil}\tevil.yaml\n")
    top = plumbing("mktree", stdin=f"040000 tree {inner}\t..\n100644 blob {plain}\ta.yaml\n")
    git(repo, "update-ref", "refs/heads/evil", git(repo, "commit-tree", "-m", "crafted", top).strip())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert at("evil", repo) == {"pod/tenant-a": {"name": "A"}}
    assert list(scratch.iterdir()) == []


def test_a_path_from_git_that_would_leave_the_private_copy_is_refused(tmp_path: Path):
    """Pins ``raise GitFailed("refusing a path from git that is not a plain relative path ...")``
    in ``_create``, the last guard before a file is written (what reaches it is filtered before:
    a ``..`` directory is hidden to the loader): no file is made outside ``into``."""
    into = tmp_path / "private" / "copy"
    into.mkdir(parents=True)
    for relative in ("../escaped.yaml", "cfg/../../escaped.yaml", "./a.yaml", "cfg//a.yaml"):
        with pytest.raises(GitFailed, match="^refusing a path from git that is not a plain relative path: "):
            _create(str(into), relative)
    assert [p.name for p in tmp_path.rglob("*")] == ["private", "copy"]


def test_a_config_symlink_to_nothing_in_a_directory_is_refused_by_name(repo: Path):
    """Pins ``return "a symlink to nothing"`` in ``_why``: a dangling link among a directory's
    config files is named, with what is wrong with it."""
    (repo / "cfg" / "gone.yaml").symlink_to("nothere.yaml")
    commit(repo)
    commit_id = git(repo, "rev-parse", "HEAD").strip()
    assert refused("HEAD", repo / "cfg") == (
        f"--changed-since HEAD ({commit_id[:12]}): HEAD:cfg/gone.yaml cannot be read: a symlink to nothing"
    )
