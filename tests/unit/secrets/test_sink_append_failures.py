"""A failed append (a full disk, an I/O error) leaves valid JSON with every earlier secret; every
append is fsynced before store() returns; a torn tail longer than the next record is cut off.

Failures are injected by wrapping the os functions the sink calls (os.pwrite, os.fsync)."""

from __future__ import annotations

import errno
import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailctl.errors import MailctlError
from mailctl.secrets import SecretSink


def _store(path: Path, *names: str) -> None:
    for name in names:
        SecretSink(path).store(f"api_key/{name}", {"api_key_id": name, "api_key": f"am_secret_{name}"})


def _secrets(path: Path) -> list[str]:
    return [r["secret"] for r in json.loads(path.read_text())]


def _fail_once(monkeypatch: pytest.MonkeyPatch, name: str, fail: Callable[..., Any]) -> None:
    """Replace os.<name> so that its first call runs ``fail(real, *args)``, later ones the real one."""
    real = getattr(os, name)
    calls = []

    def once(*args: Any) -> Any:
        calls.append(args)
        return fail(real, *args) if len(calls) == 1 else real(*args)

    monkeypatch.setattr(os, name, once)


def _half_then(code: int) -> Callable[..., Any]:
    """A write that puts half its bytes on disk, then fails (the disk filled up mid-record)."""

    def write(real: Callable[..., int], fd: int, data: bytes, offset: int) -> int:
        real(fd, bytes(data[: len(data) // 2]), offset)
        raise OSError(code, os.strerror(code))

    return write


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO], ids=["ENOSPC", "EIO"])
def test_a_write_failing_mid_record_rolls_back_to_the_last_whole_record(tmp_path, monkeypatch, code):
    path = tmp_path / "s.json"
    _store(path, "a", "b")
    _fail_once(monkeypatch, "pwrite", _half_then(code))
    with pytest.raises(MailctlError, match=f"could not record the secret of api_key/c: {os.strerror(code)}"):
        _store(path, "c")
    assert _secrets(path) == ["am_secret_a", "am_secret_b"]  # valid JSON, nothing earlier lost
    _store(path, "d")
    assert _secrets(path) == ["am_secret_a", "am_secret_b", "am_secret_d"]


def test_a_first_record_failing_leaves_an_empty_array(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    _fail_once(monkeypatch, "pwrite", _half_then(errno.ENOSPC))
    with pytest.raises(MailctlError, match="No space left on device"):
        _store(path, "a")
    assert json.loads(path.read_text()) == []


def test_an_fsync_failing_rolls_the_record_back(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    _store(path, "a")

    def eio(real: Callable[[int], None], fd: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    _fail_once(monkeypatch, "fsync", eio)
    with pytest.raises(MailctlError, match="Input/output error"):
        _store(path, "b")
    assert _secrets(path) == ["am_secret_a"]


def test_store_returns_only_after_the_written_file_is_fsynced(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    _store(path, "a")  # the file exists: only the file itself is synced, not its directory
    events: list[tuple[str, int]] = []
    real_pwrite, real_fsync = os.pwrite, os.fsync
    monkeypatch.setattr(os, "pwrite", lambda fd, data, off: events.append(("write", fd)) or real_pwrite(fd, data, off))
    monkeypatch.setattr(os, "fsync", lambda fd: events.append(("fsync", fd)) or real_fsync(fd))
    _store(path, "b")
    last_write = max(i for i, (what, _) in enumerate(events) if what == "write")
    assert ("fsync", events[last_write][1]) in events[last_write + 1 :], events


def test_a_new_sink_files_name_is_fsynced_in_its_directory(tmp_path, monkeypatch):
    synced: list[tuple[int, int]] = []  # (device, inode) of each file synced
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append((os.fstat(fd).st_dev, os.fstat(fd).st_ino))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    _store(tmp_path / "s.json", "a")
    assert synced == [(p.stat().st_dev, p.stat().st_ino) for p in (tmp_path / "s.json", tmp_path)]


def test_a_torn_tail_longer_than_the_next_record_is_cut_off(tmp_path):
    path = tmp_path / "s.json"
    _store(path, "a")
    long_record = {"api_key_id": "b", "prefix": "am_" + "x" * 400, "api_key": "am_secret_b"}
    SecretSink(path).store("api_key/" + "b" * 400, long_record)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"am_secret_b")])  # power lost near the end of a long record
    _store(path, "c")  # much shorter than the torn bytes it replaces
    assert _secrets(path) == ["am_secret_a", "am_secret_c"]


def test_two_processes_appending_to_one_file_take_turns(tmp_path, monkeypatch):
    # Two SecretSink objects open the file separately, as two mailctl processes would (each
    # object's own thread lock does not cover the other). The first one to find where its record
    # goes waits there for the second; with the file lock held the second cannot get that far.
    path = tmp_path / "s.json"
    _store(path, "a")
    first_inside, second_inside = threading.Event(), threading.Event()
    real = SecretSink._insertion_point

    def insertion_point(sink: SecretSink, fd: int, size: int) -> tuple[int, bytes]:
        if not first_inside.is_set():
            first_inside.set()
            second_inside.wait(0.5)  # bounded: with the lock this never comes, and nothing is timed
        else:
            second_inside.set()
        return real(sink, fd, size)

    monkeypatch.setattr(SecretSink, "_insertion_point", insertion_point)
    first = threading.Thread(target=_store, args=(path, "b"))
    first.start()
    assert first_inside.wait(30)
    _store(path, "c")
    first.join(30)
    assert sorted(_secrets(path)) == ["am_secret_a", "am_secret_b", "am_secret_c"]
