"""The config as it was at a git revision: ``--changed-since REF`` compares it with the working tree.

The repository is the one holding the config files (``git rev-parse --show-toplevel`` from
their directory). Each ``-f`` path is taken as it was at REF (a symlink among its components is
followed in REF's tree, not the working tree's), its config files are copied as committed into a
private temporary directory (mode 0700, removed afterwards; ``mailctl.config.git_revision``:
nothing the repository configures is run) and loaded by the same loader as the working tree, so
templates, ``.mailctlignore`` and every rule apply alike. A path absent at REF (a file the change
adds) contributes nothing.

REF must be a commit git has: in a shallow CI clone, fetch it first; in a partial clone, its files
too. Errors say which git command to run, and a config that does not load at REF is reported with
REF's name on every problem.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mailctl.config.git_revision import Commit, GitFailed, UnreadableAtRevision, run_git
from mailctl.config.pipeline import load_config
from mailctl.errors import ConfigError, UsageError
from mailctl.resources import DesiredState
from mailctl.text import hides, shown

DEFAULT_CONFIG = "mailctl.yaml"
MAX_REF = 4096  # characters: a ref name is a path in the repository (PATH_MAX)
_COMMIT_ID = re.compile(r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}")  # a full SHA-1 or SHA-256 object id
_ABBREVIATED_ID = re.compile(r"[0-9a-fA-F]{7,63}")  # as git abbreviates one (7 digits at least)
_DUBIOUS = re.compile(r"dubious ownership in repository at '([^'\n]+)'")  # git's words, the top it found


@dataclass(frozen=True)
class Revision:
    ref: str  # as the user wrote it
    commit: str  # the full commit id it names
    repository: str  # the top level of the work tree

    def __str__(self) -> str:
        return f"{self.ref} ({self.commit[:12]})"


def resolve(ref: str, paths: list[str]) -> Revision:
    """The commit ``ref`` names in the repository holding ``paths`` (``-f``; none: ./mailctl.yaml)."""
    if hides(ref):  # no revision has one, and REF is printed in every message below
        raise UsageError(f"--changed-since {shown(ref)}: REF holds a control or invisible character")
    if not ref:
        raise UsageError("--changed-since '': REF is empty: name a branch, tag or commit")
    if len(ref) > MAX_REF:  # no git name is that long, and it would not fit a command line
        raise UsageError(f"--changed-since {ref[:40]}...: REF is {len(ref)} characters long; no git name is")
    paths = [os.path.abspath(p) for p in paths or [DEFAULT_CONFIG]]
    anchor = _anchor(paths)
    top = _git(anchor, "rev-parse", "--show-toplevel", error=f"{anchor} is not inside a git repository").strip()
    for path in paths:
        _in_repository(path, top, ref)
    try:
        named = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", ref).strip()
        if named.startswith("^"):  # `^main` excludes a commit: taken for one, nothing would exist at it
            raise UsageError(f"--changed-since {ref}: REF must name one commit, not exclude one")
        # Peeled apart from the name: `:/text` searches commit messages for all that follows it.
        commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{named}^{{commit}}").strip()
    except GitFailed:
        raise UsageError(_unknown_ref(ref, top)) from None
    return Revision(ref, commit, top)


def load_at(revision: Revision, paths: list[str]) -> DesiredState | None:
    """The desired state the config at ``revision`` declares; None if none of ``paths`` existed
    there (the change adds the whole config, or reaches it through a link git does not track)."""
    top, ref = revision.repository, revision.ref
    relative = [_in_repository(os.path.abspath(p), top, ref) for p in paths or [DEFAULT_CONFIG]]
    private = tempfile.mkdtemp(prefix="mailctl-changed-since-")  # mode 0700: nobody else reads it
    try:
        try:
            present = Commit(top, revision.commit).copy(relative, private)
        except UnreadableAtRevision as exc:
            raise UsageError(f"--changed-since {revision}: {ref}:{exc.path} cannot be read: {exc.why}") from None
        except GitFailed as exc:
            why = f"{_git_says(str(exc), top)}{_partial_clone_help(revision, relative)}"
            raise UsageError(f"--changed-since {revision}: cannot read the config at it: {why}") from None
        except OSError as exc:
            raise UsageError(f"--changed-since {revision}: cannot read the config at it: {exc}") from None
        if not present:
            return None
        try:
            return load_config([os.path.join(private, r) for r in present], on_skip=None).state
        except ConfigError as exc:
            raise UsageError(_unloadable(revision, exc, private)) from None
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _in_repository(path: str, top: str, ref: str) -> str:
    """``path`` (absolute) relative to the repository's top, as git names it: the components
    below the top are kept as written, so that a symlink among them is followed at REF, in REF's
    tree. A path that reaches the repository only through a link from outside counts where the
    link leads now."""
    real_top = os.path.realpath(top)
    parts = Path(path).parts
    for depth in range(len(parts) + 1):
        if os.path.realpath(os.path.join(*parts[:depth]) if depth else os.sep) == real_top:
            return "/".join(parts[depth:]) or "."
    relative = os.path.relpath(os.path.realpath(path), real_top)
    if relative == os.pardir or relative.startswith(os.pardir + os.sep):
        raise UsageError(f"--changed-since {ref}: {path} is outside the git repository {top}")
    return relative.replace(os.sep, "/")


def _anchor(paths: list[str]) -> str:
    """The directory git is asked from: the first config path's (or the current one)."""
    for path in paths:
        directory = path if os.path.isdir(path) else os.path.dirname(path)
        if os.path.isdir(directory):
            return directory
    return os.getcwd()


def _unknown_ref(ref: str, top: str) -> str:
    """Why ``ref`` names no commit here, with the git command that would fetch it where one would."""
    head = f"--changed-since {ref}:"
    if not _resolves(top, "HEAD"):
        return (
            f"{head} the repository {top} has no commits yet, so there is nothing to compare with; "
            f"plan without --changed-since"
        )
    if _resolves(top, ref, commit=False):
        return f"{head} {ref} names a {_git(top, 'cat-file', '-t', '--end-of-options', ref).strip()}, not a commit"
    if "@{" in ref:  # an upstream or a reflog entry: git says which part it lacks
        return f"{head} git cannot resolve {ref} in {top}: {_unresolved(top, ref)}"
    name, back = _name_and_steps(ref)
    shallow = _git(top, "rev-parse", "--is-shallow-repository").strip() == "true"
    if name != ref and _resolves(top, name, commit=False):  # the name is known: the steps back are not
        if not shallow:
            return f"{head} {ref} goes back further than the history of {top} reaches"
        return (
            f"{head} git knows no commit {ref} in {top}: the shallow clone's history stops before it. "
            f"Fetch more of it first: git fetch --deepen={max(back, 1)} origin"
        )
    unknown = f"{head} git knows no commit {ref} in {top}"
    if shallow:
        unknown += " (a shallow CI clone has only what was fetched)"
    remotes = _git(top, "remote").split()
    depth = f"--depth={back + 1} " if shallow else ""  # a full clone stays full
    if _COMMIT_ID.fullmatch(name):  # a pull request's base commit, say: fetched by its id
        remote = _fetched_from(remotes)
        fetch = f"git fetch {depth}{shlex.quote(remote)} {name}"
        if not remotes:
            return f"{unknown}, and it has no remote to fetch it from: git remote add origin URL, {fetch}"
        return f"{unknown}. Fetch it first: {fetch}"
    if _ABBREVIATED_ID.fullmatch(name):  # git fetches no commit by an abbreviation of its id
        remote = _fetched_from(remotes)
        return (
            f"{unknown}: if it is an abbreviated commit id, fetch the commit by its full id first: "
            f"git fetch {depth}{shlex.quote(remote)} FULL_ID, then pass --changed-since FULL_ID"
        )
    if not _is_branch_name(top, name):
        return f"{unknown}: no branch, tag or commit has that name"
    remote, _, branch = name.partition("/")
    if branch and (remote in remotes or not remotes):  # origin/main: a remote's branch
        refspec = shlex.quote(f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}")
        fetch = f"git fetch {depth}{shlex.quote(remote)} {refspec}"
        if not remotes:
            add = f"git remote add {shlex.quote(remote)} URL"
            return f"{unknown}, and it has no remote to fetch it from: {add}, {fetch}"
        return f"{unknown}. Fetch it first: {fetch}"
    remote = _fetched_from(remotes)
    tracking, steps = f"{remote}/{name}", ref[len(name) :]
    if _resolves(top, tracking):
        return f"{unknown}, but knows {tracking}: pass --changed-since {shlex.quote(tracking + steps)}"
    fetch = f"git fetch {depth}{shlex.quote(remote)} {shlex.quote(f'+refs/heads/{name}:refs/remotes/{tracking}')}"
    then = f"then pass --changed-since {shlex.quote(tracking + steps)}"
    if not remotes:
        return f"{unknown}, and it has no remote to fetch it from: git remote add origin URL, {fetch}, {then}"
    tag = f"git fetch {depth}{shlex.quote(remote)} tag {shlex.quote(name)}"
    return f"{unknown}. If it is a branch of {remote}, fetch it first: {fetch}, {then}; if a tag: {tag}"


def _unresolved(top: str, ref: str) -> str:
    """Why git resolves no ``@{...}`` in ``ref`` (no upstream, no such branch), in its own words; a
    reflog entry it lacks, which it does not name, is said here."""
    try:
        _git(top, "rev-parse", "--verify", "--end-of-options", ref)
    except GitFailed as exc:
        said = _git_says(str(exc), top).removeprefix("fatal: ").removeprefix("error: ")
        if said and said != "Needed a single revision":
            return said
    return (
        "no such entry in the reflog (@{N}, @{-N} and @{date} read this clone's own reflog, which a CI "
        "clone barely has): name a branch, tag or commit"
    )


def _fetched_from(remotes: list[str]) -> str:
    """The remote a suggested fetch names: origin when there is one (or none at all), else the first."""
    return "origin" if "origin" in remotes or not remotes else remotes[0]


def _name_and_steps(ref: str) -> tuple[str, int]:
    """``ref`` without the steps back at its end, and how many commits they count back
    (``HEAD~3``: HEAD, 3; ``main^^``: main, 2; ``v1^{tree}``: v1, 0)."""
    match = re.fullmatch(r"(.*?)((?:~\d*|\^\d*|\^\{[^{}]*\})*)", ref, re.S)
    assert match is not None  # the pattern matches any text
    back = 0
    for step in re.finditer(r"~(\d*)|\^(\d*)(?!\{)", match[2]):
        if step[0].startswith("~"):
            back += int(step[1] or 1)
        else:
            back += 1 if step[2] != "0" else 0
    return match[1], back


def _resolves(top: str, name: str, commit: bool = True) -> bool:
    """Whether ``name`` names an object (a commit, with ``commit``) that the repository has."""
    try:
        if commit:
            _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{name}^{{commit}}")
        else:  # a full commit id "verifies" whether git has it or not; `HEAD:path` takes no suffix
            named = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", name).strip()
            _git(top, "cat-file", "-e", named)
    except GitFailed:
        return False
    return True


def _is_branch_name(top: str, name: str) -> bool:
    """Whether ``name`` could be a branch (so that a fetch of it can be suggested)."""
    if not name or name.startswith("-"):
        return False
    try:
        _git(top, "check-ref-format", f"refs/heads/{name}")
    except GitFailed:
        return False
    return True


def _partial_clone_help(revision: Revision, relative: list[str]) -> str:
    """For a partial clone (``git clone --filter``), which has REF's commit but not necessarily its
    files: that, and the git command that fetches them (``git grep`` reads, so fetches, each one);
    mailctl itself never fetches."""
    if not _is_partial_clone(revision.repository):
        return ""
    paths = " ".join(shlex.quote(f"./{p}" if p.startswith(":") else p) for p in relative)  # no pathspec magic
    fetch = f"git -C {shlex.quote(revision.repository)} grep -c '' {revision.commit} -- {paths}"
    return (
        f". {revision.repository} is a partial clone and lacks files of {revision.ref}, which mailctl does not "
        f"fetch. Fetch them first: {fetch}"
    )


def _is_partial_clone(top: str) -> bool:
    """Whether a remote of ``top`` is a promisor (``git clone --filter`` made it one)."""
    try:
        settings = _git(top, "config", "--bool", "--get-regexp", r"^remote\..*\.promisor$")
    except GitFailed:
        return False  # none set (or none readable): not a partial clone
    return any(line.endswith(" true") for line in settings.splitlines())


def _unloadable(revision: Revision, exc: ConfigError, private: str) -> str:
    """ConfigError's report, every file named as ``REF:path`` rather than the private copy's path."""
    report = str(exc).replace(private + os.sep, f"{revision.ref}:")
    return (
        f"--changed-since {revision}: the config at {revision.ref} does not load, so nothing can be compared.\n{report}"
    )


def _git(cwd: str, *args: str, error: str | None = None) -> str:
    """``run_git``'s output as text; with ``error``, a failure is a UsageError saying it and why."""
    try:
        return run_git(cwd, *args).decode("utf-8", "surrogateescape")
    except GitFailed as exc:
        if error is None:
            raise
        refused = _refused_repository(str(exc), cwd)
        if refused:  # a repository git found but will not use: not "not a repository"
            raise UsageError(f"--changed-since: {refused}") from None
        raise UsageError(f"--changed-since: {error} ({_git_says(str(exc), cwd)})") from None


def _refused_repository(stderr: str, cwd: str) -> str | None:
    """git's safe.directory check: the repository is another user's. The advice names the top git
    found (in its own words; ``cwd`` if they changed), which is what safe.directory takes."""
    if "dubious ownership" not in stderr:
        return None
    found = _DUBIOUS.search(stderr)
    top = found[1] if found else cwd
    return (
        f"git refuses the repository {top}: it is owned by another user. If you trust it: "
        f"git config --global --add safe.directory {shlex.quote(top)}"
    )


def _git_says(stderr: str, cwd: str) -> str:
    """The line of git's complaint that says what is wrong."""
    refused = _refused_repository(stderr, cwd)
    if refused:
        return refused
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (fatal or lines or ["git failed"])[0]
