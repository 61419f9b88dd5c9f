"""Write a whole file or nothing: a temp file beside it, fsynced, then renamed over it.

An interrupted ``plan --out`` or ``drift --out`` (Ctrl-C, a kill, a full disk) leaves the previous
file, or none, never a truncated one. A path that is not a regular file (a FIFO, a device) is
written in place: renaming over it would replace the special file itself. A symlink is followed,
so the link is kept and its target gets the new content; but not a symlink another user planted
in a shared directory like /tmp, nor one there that points where nothing exists (see
``local_path``): as root, ``plan --out /tmp/x.plan`` must never replace a file such a link names.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from typing import NoReturn

from mailctl.local_path import follow, refuse_dangling_shared_link


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Raises OSError like ``Path.write_text`` (PermissionError, its strerror saying why, for a
    refused link); the temp file never outlives a failure."""

    def refuse(why: str) -> NoReturn:
        raise PermissionError(errno.EACCES, why, os.fspath(path))

    followed = follow(path, refuse)
    refuse_dangling_shared_link(followed, refuse)
    target = str(followed.target)
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


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
