"""Config files a sparse checkout (``git sparse-checkout``) leaves out of the working tree.

Git tracks files a sparse checkout never writes to the working tree. A config directory read
there misses them, so what they declare reads as removed: a plan would delete those tenants, and
``--changed-since`` would select them for deletion. The loader therefore asks git, for a
directory inside a repository that has sparse-checkout patterns, which of the config files it
tracks below the directory the working tree lacks, and reports each one as a problem.

Git is asked only when the repository has patterns (``info/sparse-checkout`` in its git
directory), so a load elsewhere costs a few ``stat`` calls and runs nothing. If git cannot answer
there (not installed, or the repository is another user's), the load goes on as before.
"""

from __future__ import annotations

import os
from collections.abc import Callable

_GIT_LINK = "gitdir: "  # a linked worktree's or a submodule's ``.git`` file


def left_out(directory: str, read: Callable[[str], bool]) -> list[str]:
    """The files below ``directory`` (paths joined to it) that git tracks, a sparse checkout left out
    of the working tree, and the loader's walk would read (``read``: a path relative to
    ``directory``, ``/``-separated)."""
    if not _has_sparse_patterns(directory):
        return []
    from mailctl.config.git_revision import GitFailed, run_git
    from mailctl.errors import UsageError

    try:  # -t tags each file; S: skip-worktree, which is how a sparse checkout leaves one out
        listed = run_git(directory, "ls-files", "-t", "-z", "--", ".")
    except (GitFailed, UsageError):
        return []
    missing = []
    for entry in listed.split(b"\0"):
        tag, _, name = os.fsdecode(entry).partition(" ")
        path = os.path.join(directory, *name.split("/"))
        if tag == "S" and read(name) and not os.path.lexists(path):
            missing.append(path)
    return sorted(missing)


def _has_sparse_patterns(directory: str) -> bool:
    """Whether the repository holding ``directory`` (found as git finds it, upwards) has
    sparse-checkout patterns for this working tree."""
    here = os.path.abspath(directory)
    while True:
        dot_git = os.path.join(here, ".git")
        git_dir = dot_git if os.path.isdir(dot_git) else _linked(dot_git)
        if git_dir is not None:
            return os.path.isfile(os.path.join(git_dir, "info", "sparse-checkout"))
        parent = os.path.dirname(here)
        if parent == here:
            return False
        here = parent


def _linked(dot_git: str) -> str | None:
    """The git directory a ``.git`` file names (None when there is no such file)."""
    try:
        with open(dot_git, encoding="utf-8", errors="surrogateescape") as file:
            first = file.readline(4096).rstrip("\n")
    except OSError:
        return None
    if not first.startswith(_GIT_LINK):
        return None
    return os.path.join(os.path.dirname(dot_git), first[len(_GIT_LINK) :])
