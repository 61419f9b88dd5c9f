"""Write a whole file or nothing: a temp file beside it, fsynced, then renamed over it.

An interrupted ``plan --out`` or ``drift --out`` (Ctrl-C, a kill, a full disk) leaves the previous
file, or none, never a truncated one. ``write_new_files`` does the same for a set of new files
(``export -o DIR``): all of them, or none. A path that is not a regular file (a FIFO, a device) is
written in place: renaming over it would replace the special file itself. A symlink is followed,
so the link is kept and its target gets the new content; but not a symlink another user planted
in a shared directory like /tmp, nor one there that points where nothing exists (see
``local_path``): as root, ``plan --out /tmp/x.plan`` must never replace a file such a link names.
Nor is a ``--secrets-out`` file ever replaced: it holds the only copy of its secrets.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import NoReturn

from mailctl.local_path import follow, refuse_dangling_shared_link
from mailctl.secrets import REPLACING_LOSES_SECRETS, holds_secrets


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Raises OSError like ``Path.write_text`` (PermissionError, its strerror saying why, for a
    refused link or secrets file); the temp file never outlives a failure."""
    target = str(_checked_target(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        with open(target, "w", encoding="utf-8") as special:
            special.write(text)
        return
    directory, name = os.path.split(target)
    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            # Through the open file, never by path: whoever can write the directory could swap
            # the temp file for a link, and a chmod by path would change the mode of its target.
            os.fchmod(handle.fileno(), stat.S_IMODE(mode) if mode is not None else 0o666 & ~_umask())
            os.fsync(handle.fileno())
        os.replace(temp, target)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise


def check_replaceable(path: str | os.PathLike[str]) -> None:
    """Every refusal ``write_text`` would make, raised the same way: for a command to check its
    output path before the work whose result it writes (``write_text`` checks again)."""
    _checked_target(path)


def _checked_target(path: str | os.PathLike[str]) -> Path:
    """Where ``path`` leads; a planted link, or a secrets file (the only copy of its secrets), is
    refused with PermissionError."""

    def refuse(why: str) -> NoReturn:
        raise PermissionError(errno.EACCES, why, os.fspath(path))

    followed = follow(path, refuse)
    refuse_dangling_shared_link(followed, refuse)
    if followed.info is not None and stat.S_ISREG(followed.info.st_mode) and holds_secrets(followed.target):
        refuse(f"is {REPLACING_LOSES_SECRETS}")
    return followed.target


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_new_files(directory: str | os.PathLike[str], files: dict[str, str]) -> None:
    """Create ``directory`` (and missing parents) and write ``files`` (name: text) into it, all
    or none: they are written in a private staging directory inside it, then renamed into place;
    after a failure the files already moved, and the directories this call made, are removed
    again. Raises OSError (FileExistsError for a name that exists: nothing is ever replaced)."""
    directory = os.fspath(directory)
    made = _missing_directories(directory)
    os.makedirs(directory, exist_ok=True)
    moved: list[str] = []
    try:
        stage = tempfile.mkdtemp(prefix=".mailctl-staging.", dir=directory)  # mode 0700: ours alone
        try:
            for name, text in files.items():
                with open(os.path.join(stage, name), "x", encoding="utf-8") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
            for name in files:
                target = os.path.join(directory, name)
                if os.path.lexists(target):
                    raise FileExistsError(errno.EEXIST, "a file of this name appeared meanwhile", target)
                os.replace(os.path.join(stage, name), target)
                moved.append(target)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    except BaseException:
        for target in moved:
            os.unlink(target)
        for made_directory in reversed(made):
            try:
                os.rmdir(made_directory)
            except OSError:  # something else was put there meanwhile: keep it
                break
        raise


def _missing_directories(directory: str) -> list[str]:
    """``directory`` and those of its parents that do not exist yet, outermost first."""
    missing: list[str] = []
    path = os.path.abspath(directory)
    while not os.path.lexists(path):
        missing.append(path)
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return list(reversed(missing))
