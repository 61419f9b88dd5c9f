"""Where new API key secrets go: one JSON array in a file, mode 0600, appended in place.

A created key's secret exists only in the create response; this sink is the only place it is
ever written. The file holds one JSON array of records
``{"address", "api_key_id", "prefix", "secret", "created_at"}``.

Why it is shaped like this:

- Each record is written in place, just before the closing ``]``, with one ``pwrite`` and an
  ``fsync``: recording N secrets costs time linear in N, and there is never a temporary file
  that a kill could leave behind holding secrets. Records stored from other threads while an
  append is being written go together in the next one (group commit: see ``store``).
- A torn tail (power lost in the middle of a write) loses at most the records being written (one,
  or those queued together); the next append drops the partial record and continues after the
  last whole one. Their keys are still under their pending names (see ``pending_name``: no store
  of the write had returned), so the next plan replaces them.
- Only a regular file, or a new file in a writable directory, is accepted. Symlinks are followed:
  the target is updated in place and the link stays. Devices, FIFOs, sockets, directories and
  anything under /proc or /sys (so /dev/stdout and /dev/fd/N too) are refused before any change;
  reads are bounded in size.
- Only the running user controls the sink. ``check_writable`` (run before the lock, the plan and
  any request) resolves the path one symlink at a time, as the kernel does, and refuses a file
  owned by another user or with more than one name, a directory another user could swap it in,
  a symlink planted by another user in a sticky world-writable directory (the kernel's
  ``protected_symlinks`` rule, applied to root too) and a dangling symlink in a sticky
  directory. Every append checks the file it opened again (``fstat``: type, owner, links), so
  nothing swapped in after the check is ever written.
- A failed append (a full disk, an I/O error) rolls the file back to its last whole record.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn

from mailctl.errors import MailctlError, UsageError
from mailctl.local_path import Followed, follow, read_regular, refuse_dangling_shared_link
from mailctl.resources import name_before

# Two-phase key creation: a key is created under its pending name, its secret recorded here, and
# only then renamed to its declared name. Declared names cannot contain "#", so a pending name
# never collides with one, and any machine can tell that such a key's secret may be lost.
PENDING_SUFFIX = "#mailctl-pending"

MAX_SINK_BYTES = 64 * 1024 * 1024  # ~250,000 records; anything bigger is not ours
PSEUDO_FILESYSTEMS = ("/proc", "/sys")  # "regular" files there are kernel interfaces
TAIL_BYTES = 4096  # an append reads only this much of the end of the file
_RECORD_END = b"\n  }"  # how every record written here ends (strings never hold a raw newline)
_RECOVERY_TRIES = 3  # record ends tried from the back when the tail is torn
_OPEN_FLAGS = os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
_CLOSING = b"\n]\n"  # what follows the last record


# Why a whole-file write (``plan --out``, ``drift --out``) never replaces a sink: see holds_secrets.
REPLACING_LOSES_SECRETS = (
    "a mailctl secrets file (--secrets-out) holding API key secrets, their only copy: "
    "replacing it would lose them; pass another path"
)


def pending_name(name: str) -> str:
    """The name a key carries until its secret is durably recorded."""
    return name + PENDING_SUFFIX


def declared_name_of(name: str) -> str | None:
    """The declared name behind a pending name, or None when ``name`` is not pending."""
    return name_before(name, PENDING_SUFFIX)


@dataclass
class _Queued:
    """A record waiting for an append, and then what became of it (None: on disk)."""

    address: str
    record: bytes
    error: BaseException | None = None


class SecretSink:
    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._writer = threading.Lock()  # one append at a time
        self._lock = threading.Lock()  # guards _queue and written (held briefly)
        self._queue: list[_Queued] = []  # records waiting for the next append
        self.written: list[str] = []  # addresses whose secret was stored (never the secrets)

    def waiting(self) -> int:
        """Records queued behind the append being written."""
        with self._lock:
            return len(self._queue)

    def check_writable(self) -> None:
        """Every refusal the sink can make, before any change: not after a key was created and its
        secret lost. Raises UsageError."""
        resolved = self._target()
        if resolved.info is not None:
            if not os.access(resolved.target, os.W_OK):
                self._refuse("file is not writable")
            if _append_point(_read_bounded(resolved.target, self._refuse)) is None:
                self._refuse("not a mailctl secrets file (expected a JSON array of records)")

    def store(self, address: str, response: dict[str, Any]) -> None:
        """Record one secret durably (fsync) before returning; raise MailctlError if it cannot."""
        record = {
            "address": address,
            "api_key_id": response.get("api_key_id"),
            "prefix": response.get("prefix"),
            "secret": response.get("api_key"),
            "created_at": response.get("created_at") or datetime.now(UTC).isoformat(),
        }
        queued = _Queued(address, _format(record))
        with self._lock:
            self._queue.append(queued)
        # Group commit: whoever holds the writer appends every record queued so far, those of the
        # stores waiting behind it too. Under dozens of worker threads each append's syscalls
        # wait for the GIL in turn: paid once per batch rather than once per key. Once this
        # store holds the writer, its record was written (by an earlier holder) or is in its batch.
        with self._writer:
            with self._lock:
                batch, self._queue = self._queue, []
            if batch:
                self._write(batch)
        if queued.error is not None:
            raise queued.error

    def _write(self, batch: list[_Queued]) -> None:
        """One append of ``batch``; every store in it learns the outcome (``error``)."""
        failure: BaseException | None = None
        try:
            self._append(b",\n".join(queued.record for queued in batch))
        except BaseException as exc:  # every store of the batch fails; the writer re-raises the rest
            failure = exc
        for queued in batch:
            queued.error = self._error_for(queued.address, failure)
        if failure is None:
            with self._lock:
                self.written.extend(queued.address for queued in batch)
        elif not isinstance(failure, OSError | MailctlError):
            raise failure  # a bug or an interrupt, as it happened; the batch's stores were failed above

    def _error_for(self, address: str, failure: BaseException | None) -> BaseException | None:
        if failure is None:
            return None
        if isinstance(failure, OSError):
            return MailctlError(
                f"--secrets-out {self.path}: could not record the secret of {address}: {failure.strerror or failure}"
            )
        if isinstance(failure, MailctlError):
            return copy.copy(failure)  # raised in each waiting thread: one traceback each
        return MailctlError(
            f"--secrets-out {self.path}: the secret of {address} was not recorded "
            f"({type(failure).__name__} while appending the records queued with it)"
        )

    # -- the path ------------------------------------------------------------------------------

    def _refuse(self, why: str) -> NoReturn:
        raise UsageError(f"--secrets-out {self.path}: {why}")

    def _target(self) -> Followed:
        """The file the secrets go to, checked: what it is, who owns it and the way to it."""
        followed = follow(self.path, self._refuse, PSEUDO_FILESYSTEMS)
        refuse_dangling_shared_link(followed, self._refuse)
        directory = followed.target.parent
        if followed.info is None:
            if not directory.is_dir():
                self._refuse(f"directory {directory} does not exist")
            if not os.access(directory, os.W_OK | os.X_OK):
                self._refuse(f"directory {directory} is not writable")
        else:
            if not stat.S_ISREG(followed.info.st_mode):
                self._refuse(f"is {_describe(followed.info.st_mode)}, not a regular file")
            self._check_file(followed.info)
        self._check_directory(directory)
        return followed

    def _check_file(self, info: os.stat_result) -> None:
        """The sink file itself: ours alone, one name, not oversized."""
        if info.st_uid != os.geteuid():
            self._refuse(
                f"is owned by uid {info.st_uid}, not by the user running mailctl (uid {os.geteuid()}): "
                "its owner could read the secrets; pass a file of your own"
            )
        if info.st_nlink > 1:
            self._refuse(f"has {info.st_nlink} hard links: the secrets would be readable under another name")
        if info.st_size > MAX_SINK_BYTES:
            self._refuse(
                f"is {info.st_size:,} bytes, larger than any mailctl secrets file "
                f"({MAX_SINK_BYTES:,} bytes at most): use a new file"
            )

    def _check_directory(self, directory: Path) -> None:
        """Whoever can write to the sink's directory can swap the file for another: only the user
        (or root) may, or the directory must be sticky (then only a file's owner can rename it)."""
        info = os.stat(directory)
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid not in (os.geteuid(), 0):
            self._refuse(
                f"directory {directory} belongs to uid {info.st_uid}, who could swap the file: "
                "pass a path in a directory of your own"
            )
        if mode & (stat.S_IWGRP | stat.S_IWOTH) and not mode & stat.S_ISVTX:
            self._refuse(
                f"directory {directory} is writable by others (mode {mode:o}) without the sticky bit: "
                "anyone who can write there could swap the file; pass a path in a directory of your own"
            )

    # -- appending -----------------------------------------------------------------------------

    def _append(self, record: bytes) -> None:
        resolved = self._target()
        fd = os.open(resolved.target, _OPEN_FLAGS | os.O_CREAT, 0o600)
        try:
            info = os.fstat(fd)  # what was opened: whatever was swapped in since the check is refused
            if not stat.S_ISREG(info.st_mode):
                self._refuse(f"is {_describe(info.st_mode)}, not a regular file")
            self._check_file(info)
            if stat.S_IMODE(info.st_mode) != 0o600:
                os.fchmod(fd, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)  # another mailctl process appending to the same file
            size = os.fstat(fd).st_size
            offset, opener = self._insertion_point(fd, size)
            payload = opener + record + _CLOSING
            try:
                _pwrite_all(fd, payload, offset)
                if offset + len(payload) < size:
                    os.ftruncate(fd, offset + len(payload))  # a torn tail was longer than this record
                os.fsync(fd)
            except OSError:
                _roll_back(fd, offset, opener)
                raise
        finally:
            os.close(fd)
        if resolved.info is None:
            _fsync_directory(resolved.target.parent)  # the new name must survive power loss too

    def _insertion_point(self, fd: int, size: int) -> tuple[int, bytes]:
        """Where the next record goes and what precedes it; reads only the tail when it is intact."""
        start = max(0, size - TAIL_BYTES)
        tail = os.pread(fd, size - start, start)
        body = tail.rstrip()
        if body.endswith(b"]"):
            inner = body[:-1].rstrip()
            if inner.endswith(b"}"):
                return start + len(inner), b",\n"
            if start == 0 and inner.strip() == b"[":
                return len(inner), b"\n"
        if size > MAX_SINK_BYTES:
            self._refuse("grew past the size limit while in use")
        point = _append_point(_pread_all(fd, size))  # torn tail or unusual layout: read it all
        if point is None:
            self._refuse("not a mailctl secrets file (expected a JSON array of records)")
        return point


def holds_secrets(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` (symlinks followed) is a secrets file with at least one record in it: what
    this sink accepts to append to (a JSON array, a torn tail too) holding a ``"secret":`` field.
    An empty file or array holds nothing to lose; anything unreadable or too big is not ours."""
    try:
        data = read_regular(os.fspath(path), MAX_SINK_BYTES + 1)
    except OSError:
        return False
    if len(data) > MAX_SINK_BYTES or not data.lstrip().startswith(b"["):
        return False
    return b'"secret":' in data and _append_point(data) is not None


def _format(record: dict[str, Any]) -> bytes:
    """A record as one array element, indented like ``json.dumps(records, indent=2)``."""
    text = json.dumps(record, indent=2)
    return ("  " + text.replace("\n", "\n  ")).encode()


def _append_point(data: bytes) -> tuple[int, bytes] | None:
    """Where to append to this file's content, dropping a torn record at its end; None: not ours."""
    if not data.strip():
        return 0, b"[\n"
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = None
    if isinstance(parsed, list):
        inner = data.rstrip()[:-1].rstrip()
        return len(inner), (b",\n" if parsed else b"\n")
    if parsed is not None:
        return None  # valid JSON, but not an array
    end = len(data)
    for _ in range(_RECOVERY_TRIES):
        end = data.rfind(_RECORD_END, 0, end)
        if end < 0:
            break
        cut = end + len(_RECORD_END)
        try:
            whole = json.loads(data[:cut] + b"\n]")
        except ValueError:
            continue
        if isinstance(whole, list):
            return cut, b",\n"
    if data.lstrip().startswith(b"[\n  {") and _RECORD_END not in data:
        return data.index(b"[") + 1, b"\n"  # the first record itself was torn
    return None


def _read_bounded(path: Path, refuse: Callable[[str], NoReturn]) -> bytes:
    """The whole file, but never more than the limit (whatever its size claims to be)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    content = bytearray()
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            refuse("is not a regular file")
        while len(content) <= MAX_SINK_BYTES:
            chunk = os.read(fd, MAX_SINK_BYTES + 1 - len(content))
            if not chunk:
                break
            content += chunk
    finally:
        os.close(fd)
    if len(content) > MAX_SINK_BYTES:
        refuse(f"is larger than any mailctl secrets file ({MAX_SINK_BYTES:,} bytes at most)")
    return bytes(content)


def _pread_all(fd: int, size: int) -> bytes:
    chunks, offset = [], 0
    while offset < size:
        chunk = os.pread(fd, size - offset, offset)
        if not chunk:
            break
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks)


def _pwrite_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


def _roll_back(fd: int, offset: int, opener: bytes) -> None:
    """After a failed append: the file ends after its last whole record again (valid JSON, every
    earlier secret kept). Truncating first frees the space a full disk needs for the 3 bytes."""
    closing = (b"[" if opener.startswith(b"[") else b"") + _CLOSING
    try:
        os.ftruncate(fd, offset)
        _pwrite_all(fd, closing, offset)
        os.fsync(fd)
    except OSError:
        pass  # the caller raises the first error; a tail still torn is recovered by the next append


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _describe(mode: int) -> str:
    for test, what in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return what
    return "not a regular file"
