"""Git repositories in a test's temporary directory, and the config read at one of their
revisions: shared by the ``--changed-since`` sweep tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mailctl.config import changed_since
from mailctl.errors import UsageError


def git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=60)
    return done.stdout


def pod(client_id: str, name: str) -> str:
    return f"version: 1\npods:\n  {client_id}:\n    name: {name}\n"


def new_repo(path: Path) -> Path:
    """An empty repository at ``path``, its committer set locally (never globally)."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "t")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "commit.gpgsign", "false")
    return path


def commit(repo: Path, message: str = "change") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def at(ref: str, *paths: str | Path) -> dict[str, dict[str, object]] | None:
    """address -> attributes of the config at ``ref`` (None: none of the paths existed there)."""
    files = [str(p) for p in paths]
    state = changed_since.load_at(changed_since.resolve(ref, files), files)
    return None if state is None else {address: r.attrs for address, r in state.resources.items()}


def refused(ref: str, *paths: str | Path) -> str:
    with pytest.raises(UsageError) as caught:
        at(ref, *paths)
    return str(caught.value)
