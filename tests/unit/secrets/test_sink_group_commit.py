"""Secrets stored from many threads at once share appends: while one append is being written and
fsynced, the records that arrive wait and go together in the next (one open, one write, one
fsync), and each store() still returns only once its own record is on disk. Under an apply's
64 worker threads every append took ~7 ms of GIL turns under the sink's lock, one key at a time
(1.4 s of the apply's 3.3 s); now that is paid once per batch."""

from __future__ import annotations

import errno
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mailctl.errors import MailctlError
from mailctl.secrets import SecretSink

WAITERS = 15


def _response(name: str) -> dict[str, Any]:
    return {"api_key_id": name, "api_key": f"am_secret_{name}"}


def _records(path: Path) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(path.read_text())
    return records


class _HeldFirstFsync:
    """os.fsync whose first call waits until released: the first append is held open while the
    test queues more stores behind it."""

    def __init__(self) -> None:
        self.real = os.fsync
        self.calls = 0
        self.entered = threading.Event()
        self.release = threading.Event()

    def __call__(self, fd: int) -> None:
        self.calls += 1
        if self.calls == 1:
            self.entered.set()
            assert self.release.wait(10)
        self.real(fd)


def _queued(sink: SecretSink, count: int) -> None:
    deadline = time.monotonic() + 10
    while sink.waiting() < count:
        assert time.monotonic() < deadline, f"only {sink.waiting()} of {count} stores queued"
        time.sleep(0.005)


def _store_behind_a_held_append(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[SecretSink, _HeldFirstFsync, list[BaseException | None]]:
    path.write_text("[\n]\n")
    path.chmod(0o600)
    sink = SecretSink(path)
    fsync = _HeldFirstFsync()
    monkeypatch.setattr(os, "fsync", fsync)
    outcomes: list[BaseException | None] = [None] * (WAITERS + 1)

    def store(i: int) -> None:
        try:
            sink.store(f"pod/p{i}/api_key/k", _response(f"k{i}"))
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcomes[i] = exc

    first = threading.Thread(target=store, args=(0,))
    first.start()
    assert fsync.entered.wait(10)
    others = [threading.Thread(target=store, args=(i,)) for i in range(1, WAITERS + 1)]
    for thread in others:
        thread.start()
    _queued(sink, WAITERS)
    fsync.release.set()
    for thread in [first, *others]:
        thread.join(10)
    return sink, fsync, outcomes


def test_stores_that_queue_behind_an_append_are_written_together(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    sink, fsync, outcomes = _store_behind_a_held_append(path, monkeypatch)
    assert outcomes == [None] * (WAITERS + 1)
    assert fsync.calls == 2  # the first record's append, then one for the fifteen behind it
    assert sorted(r["secret"] for r in _records(path)) == sorted(f"am_secret_k{i}" for i in range(WAITERS + 1))
    assert sorted(sink.written) == sorted(f"pod/p{i}/api_key/k" for i in range(WAITERS + 1))
    assert path.read_text().endswith("\n  }\n]\n")  # laid out as one array, as a single store writes it


def test_a_failed_batch_fails_each_store_by_its_own_address_and_keeps_earlier_records(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    real_pwrite = os.pwrite
    writes = 0

    def pwrite(fd: int, data: bytes, offset: int) -> int:
        nonlocal writes
        writes += 1
        if writes == 2:  # the batch: half of it reaches the disk, then the disk is full
            real_pwrite(fd, bytes(data[: len(data) // 2]), offset)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_pwrite(fd, data, offset)

    monkeypatch.setattr(os, "pwrite", pwrite)
    sink, _, outcomes = _store_behind_a_held_append(path, monkeypatch)
    assert outcomes[0] is None
    for i in range(1, WAITERS + 1):
        assert isinstance(outcomes[i], MailctlError)
        assert str(outcomes[i]).endswith(f"could not record the secret of pod/p{i}/api_key/k: No space left on device")
    assert [r["secret"] for r in _records(path)] == ["am_secret_k0"]  # valid JSON, the first record kept
    assert sink.written == ["pod/p0/api_key/k"]


def test_a_lone_store_is_written_at_once(tmp_path):
    sink = SecretSink(tmp_path / "s.json")
    sink.store("api_key/a", _response("a"))
    assert [r["secret"] for r in _records(tmp_path / "s.json")] == ["am_secret_a"]
    assert sink.waiting() == 0


def test_a_refusal_found_by_the_batch_reaches_every_store_in_it(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    real_fstat = os.fstat
    fstats = 0

    def fstat(fd: int) -> os.stat_result:
        nonlocal fstats
        fstats += 1
        info = real_fstat(fd)
        # The batch's open (each append checks what it opened twice): another name was linked
        # to the file meanwhile.
        if fstats == 3:
            return os.stat_result((info.st_mode, *info[1:3], 2, *info[4:]))
        return info

    monkeypatch.setattr(os, "fstat", fstat)
    _, _, outcomes = _store_behind_a_held_append(path, monkeypatch)
    assert outcomes[0] is None
    for i in range(1, WAITERS + 1):
        assert isinstance(outcomes[i], MailctlError) and "has 2 hard links" in str(outcomes[i])
    assert len({id(outcome) for outcome in outcomes[1:]}) == WAITERS  # one exception per thread
    assert [r["secret"] for r in _records(path)] == ["am_secret_k0"]
