"""The config as it was at a git revision: ``--changed-since REF`` compares it with the working tree.

The repository is the one holding the config files (``git rev-parse --show-toplevel`` from
their directory). The config paths at REF are exported with ``git archive`` into a private
temporary directory (mode 0700, removed afterwards) and loaded by the same loader as the working
tree, so templates, ``.mailctlignore`` and every rule apply alike. A path absent at REF (a file
the change adds) contributes nothing.

REF must be a commit git has: in a shallow CI clone, fetch it first. Errors say which git command
to run, and a config that does not load at REF is reported with REF's name on every problem.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass

from mailctl.config.pipeline import load_config
from mailctl.errors import ConfigError, UsageError
from mailctl.resources import DesiredState

DEFAULT_CONFIG = "mailctl.yaml"


@dataclass(frozen=True)
class Revision:
    ref: str  # as the user wrote it
    commit: str  # the full commit id it names
    repository: str  # the top level of the work tree

    def __str__(self) -> str:
        return f"{self.ref} ({self.commit[:12]})"


def resolve(ref: str, paths: list[str]) -> Revision:
    """The commit ``ref`` names in the repository holding ``paths`` (``-f``; none: ./mailctl.yaml)."""
    paths = [os.path.abspath(p) for p in paths or [DEFAULT_CONFIG]]
    anchor = _anchor(paths)
    top = _git(anchor, "rev-parse", "--show-toplevel", error=f"{anchor} is not inside a git repository").strip()
    for path in paths:
        if os.path.relpath(os.path.realpath(path), os.path.realpath(top)).startswith(os.pardir):
            raise UsageError(f"--changed-since {ref}: {path} is outside the git repository {top}")
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").strip()
    except _GitFailed:
        raise UsageError(_unknown_ref(ref, top)) from None
    return Revision(ref, commit, top)


def load_at(revision: Revision, paths: list[str]) -> DesiredState:
    """The desired state the config at ``revision`` declares (empty if none of ``paths`` existed)."""
    top = os.path.realpath(revision.repository)
    relative = [os.path.relpath(os.path.realpath(os.path.abspath(p)), top) for p in paths or [DEFAULT_CONFIG]]
    listed = _git(top, "ls-tree", "-z", "--name-only", revision.commit, "--", *relative, error=str(revision))
    present = [r for r in relative if r == "." or r in listed.split("\0")]
    if not present:
        return DesiredState()
    private = tempfile.mkdtemp(prefix="mailctl-changed-since-")  # mode 0700: nobody else reads it
    try:
        archive = _git_bytes(top, "archive", "--format=tar", revision.commit, "--", *present, error=str(revision))
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            _extract(tar, private)
        try:
            return load_config([os.path.join(private, r) for r in present], on_skip=None).state
        except ConfigError as exc:
            raise UsageError(_unloadable(revision, exc, private)) from None
    except tarfile.TarError as exc:
        raise UsageError(f"--changed-since {revision}: cannot export the config at it: {exc}") from None
    finally:
        shutil.rmtree(private, ignore_errors=True)


def _extract(tar: tarfile.TarFile, into: str) -> None:
    """Extract with tarfile's "data" filter where Python has it (3.11.4 and newer); on 3.11.0-3.11.3
    (Debian 12's system Python) the same refusals made here: regular files and directories only,
    every one inside ``into``. ``git archive`` of config files needs nothing more."""
    if hasattr(tarfile, "data_filter"):
        tar.extractall(into, filter="data")
        return
    root = os.path.realpath(into)
    for member in tar.getmembers():
        target = os.path.realpath(os.path.join(root, member.name))
        if not (member.isfile() or member.isdir()) or os.path.commonpath([root, target]) != root:
            raise tarfile.TarError(f"refusing to extract {member.name!r}: not a plain file inside the export")
    tar.extractall(into)  # every member was checked above


def _anchor(paths: list[str]) -> str:
    """The directory git is asked from: the first config path's (or the current one)."""
    for path in paths:
        directory = path if os.path.isdir(path) else os.path.dirname(path)
        if os.path.isdir(directory):
            return directory
    return os.getcwd()


def _unknown_ref(ref: str, top: str) -> str:
    try:
        _git(top, "rev-parse", "--verify", "--quiet", "HEAD")
    except _GitFailed:
        return (
            f"--changed-since {ref}: the repository {top} has no commits yet, so there is nothing to compare "
            f"with; plan without --changed-since"
        )
    back = _counted_back(ref)
    if back:  # HEAD~3, main^: not a name git can fetch, but history
        if _git(top, "rev-parse", "--is-shallow-repository").strip() != "true":
            return f"--changed-since {ref}: {ref} goes back further than the history of {top} reaches"
        return (
            f"--changed-since {ref}: git knows no commit {ref} in {top}: the shallow clone's history stops "
            f"before it. Fetch more of it first: git fetch --deepen={back} origin"
        )
    remote, _, branch = ref.partition("/")
    if branch and remote in _git(top, "remote").split():
        fetch = f"git fetch --depth=1 {remote} +refs/heads/{branch}:refs/remotes/{remote}/{branch}"
    else:
        fetch = f"git fetch --depth=1 origin {ref}"
    return (
        f"--changed-since {ref}: git knows no commit {ref} in {top} (a shallow CI clone has only what "
        f"was fetched). Fetch it first: {fetch}"
    )


def _counted_back(ref: str) -> int:
    """How many commits ``ref`` counts back from a name (``HEAD~3``: 3, ``main^^``: 2; 0: none)."""
    back = 0
    for step in re.finditer(r"~(\d*)|\^\d*", ref):
        back += int(step.group(1) or 1) if step.group(0).startswith("~") else 1
    return back


def _unloadable(revision: Revision, exc: ConfigError, private: str) -> str:
    """ConfigError's report, every file named as ``REF:path`` rather than the private copy's path."""
    report = str(exc).replace(private + os.sep, f"{revision.ref}:")
    return (
        f"--changed-since {revision}: the config at {revision.ref} does not load, so nothing can be compared.\n{report}"
    )


class _GitFailed(Exception):
    pass


def _git_bytes(cwd: str, *args: str, error: str | None = None) -> bytes:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
    try:
        done = subprocess.run(["git", "-C", cwd, *args], capture_output=True, env=env, check=False)
    except FileNotFoundError:
        raise UsageError("--changed-since needs git, which is not installed (or not on PATH)") from None
    if done.returncode != 0:
        if error is None:
            raise _GitFailed(done.stderr.decode(errors="replace"))
        detail = done.stderr.decode(errors="replace").strip().splitlines()
        raise UsageError(f"--changed-since: {error} (git {args[0]}: {detail[-1] if detail else done.returncode})")
    return done.stdout


def _git(cwd: str, *args: str, error: str | None = None) -> str:
    return _git_bytes(cwd, *args, error=error).decode("utf-8", "surrogateescape")
