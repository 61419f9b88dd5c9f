"""A local path followed the way the kernel follows it, one symlink at a time, so that every link
is judged where it lies (``os.path.realpath`` only tells where a path ends).

Also ``read_regular``: a file read only if it is a regular file (a FIFO never hangs a reader).

Used by the secrets sink and by whole-file writes (``plan --out``, ``drift --out``), which both
follow symlinks on purpose. Two links are refused, whatever the system's settings and even for
root, because another local user may have planted them:

- a symlink owned by neither the user running mailctl nor root (in a sticky world-writable
  directory, the directory's owner counts too: the kernel's ``protected_symlinks`` rule; a path
  resolved here and then opened or renamed onto would otherwise escape it);
- a symlink in such a directory that points where nothing exists: nothing is ever created where
  it points (``refuse_dangling_shared_link``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

Refuse = Callable[[str], NoReturn]
MAX_LINKS = 40  # symlinks followed in one path, as the kernel allows


@dataclass(frozen=True)
class Followed:
    """Where a path leads once every symlink is followed."""

    target: Path  # the real path, every symlink followed
    info: os.stat_result | None  # its lstat; None: it does not exist yet
    ending_links: tuple[Path, ...]  # symlinks that were the path's last component, in order


def follow(path: str | os.PathLike[str], refuse: Refuse, forbidden: Collection[str] = ()) -> Followed:
    """Follow ``path``; ``refuse(why)`` for a planted link, a parent that is not a directory, a
    loop, or a component under one of the ``forbidden`` roots (checked before it is looked at)."""
    pending = list(reversed(os.path.join(os.getcwd(), path).split("/")))
    here, links, ending = Path("/"), 0, list[Path]()
    while pending:
        part = pending.pop()
        if part in ("", "."):
            continue
        if part == "..":
            here = here.parent
            continue
        candidate = here / part
        root = next((r for r in forbidden if candidate == Path(r) or Path(r) in candidate.parents), None)
        if root is not None:
            refuse(
                f"leads to {candidate}, on a kernel pseudo-filesystem, not a file for secrets "
                "(/dev/stdout, /dev/fd/N and the like lead there): pass a regular file"
            )
        rest = any(p not in ("", ".") for p in pending)
        info = _lstat(candidate, refuse)
        if info is None:  # the rest of the path cannot exist either: opening it will say so
            return Followed(candidate.joinpath(*reversed(pending)), None, tuple(ending) if not rest else ())
        if stat.S_ISLNK(info.st_mode):
            links += 1
            if links > MAX_LINKS:
                refuse("too many levels of symbolic links")
            _check_link(candidate, info, refuse)
            if not rest:
                ending.append(candidate)
            text = os.readlink(candidate)
            here = Path("/") if text.startswith("/") else here
            pending.extend(reversed(text.split("/")))
            continue
        if rest and not stat.S_ISDIR(info.st_mode):
            refuse(f"{candidate} is not a directory")
        here = candidate
    return Followed(here, _lstat(here, refuse), tuple(ending))


def refuse_dangling_shared_link(followed: Followed, refuse: Refuse) -> None:
    """A missing target reached through a link in a shared directory: never create it."""
    if followed.info is not None:
        return
    for link in followed.ending_links:
        if is_shared(os.stat(link.parent)):
            refuse(
                f"{link} is a symlink in the shared directory {link.parent} to {followed.target}, which "
                "does not exist: a link there never decides where a new file is made"
            )


def is_shared(info: os.stat_result) -> bool:
    """A directory like /tmp: world-writable, with the sticky bit."""
    return bool(info.st_mode & stat.S_ISVTX and info.st_mode & stat.S_IWOTH)


def _check_link(link: Path, info: os.stat_result, refuse: Refuse) -> None:
    """A symlink is followed only when its owner is the follower or root, whatever the system's
    setting and even for root: whoever made it chose which file gets written. In a sticky
    world-writable directory the directory's owner counts too (the kernel's protected_symlinks
    rule). Elsewhere no exception: in a directory another user owns (a service account's) or
    anyone may write to, the kernel follows any link, so one planted there would make root
    replace the file it names."""
    directory = os.stat(link.parent)
    shared = is_shared(directory)
    trusted = {os.geteuid(), 0, *((directory.st_uid,) if shared else ())}
    if info.st_uid not in trusted:
        where = "shared directory" if shared else "directory"
        refuse(
            f"is reached through the symlink {link}, owned by uid {info.st_uid}, in the {where} "
            f"{link.parent}: another user may have planted it; remove it or pass another path"
        )


def _lstat(path: Path, refuse: Refuse) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        refuse(f"cannot be used: {exc.strerror or exc}")


class NotRegularFile(OSError):
    """A FIFO, socket or device where a config file was expected (opened without blocking)."""

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind


def read_regular(file: str, limit: int) -> bytes:
    """At most ``limit`` bytes of a regular file. Opened non-blocking and checked before reading,
    so a FIFO (or one swapped in after a check) raises NotRegularFile instead of hanging."""
    fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(special_kind(mode))
        with os.fdopen(fd, "rb", closefd=False) as handle:
            return handle.read(limit)
    finally:
        os.close(fd)


def special_kind(mode: int) -> str:
    """What a file that is not a regular file is, for messages."""
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return name
    return "not a regular file"
