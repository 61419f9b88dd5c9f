"""The secret sink: 0600, durable in-place appends, refuses anything but a regular file before
anything is created, bounded reads, linear cost, no temporary files, torn tails recovered."""

from __future__ import annotations

import errno
import json
import os
import socket
import stat
import threading
from pathlib import Path

import pytest

import mailctl.secrets as secrets_module
from mailctl.errors import MailctlError, UsageError
from mailctl.local_path import Followed
from mailctl.secrets import PENDING_SUFFIX, SecretSink, declared_name_of, pending_name


def test_secrets_are_appended_as_a_json_array_with_mode_0600(tmp_path):
    sink = SecretSink(tmp_path / "s.json")
    sink.check_writable()
    sink.store("api_key/a", {"api_key_id": "1", "prefix": "am_x", "api_key": "am_secret_1"})
    sink.store("api_key/b", {"api_key_id": "2", "prefix": "am_y", "api_key": "am_secret_2"})
    path = tmp_path / "s.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    records = json.loads(path.read_text())
    assert [r["secret"] for r in records] == ["am_secret_1", "am_secret_2"]
    assert sink.written == ["api_key/a", "api_key/b"]


def test_concurrent_stores_lose_nothing(tmp_path):
    sink = SecretSink(tmp_path / "s.json")
    threads = [threading.Thread(target=sink.store, args=(f"k{i}", {"api_key": f"s{i}"})) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(json.loads((tmp_path / "s.json").read_text())) == 20


def test_an_existing_file_that_is_not_ours_is_refused_up_front(tmp_path):
    (tmp_path / "s.json").write_text("not json")
    with pytest.raises(UsageError, match="not a mailctl secrets file"):
        SecretSink(tmp_path / "s.json").check_writable()


def test_a_missing_directory_is_refused_up_front(tmp_path):
    with pytest.raises(UsageError, match="nope does not exist"):
        SecretSink(tmp_path / "nope" / "s.json").check_writable()


# -- what --secrets-out may point at -------------------------------------------------------------


def _refused(path, match):
    with pytest.raises(UsageError, match=match):
        SecretSink(path).check_writable()


def test_a_fifo_is_refused_before_anything_is_written(tmp_path):
    fifo = tmp_path / "s.json"
    os.mkfifo(fifo)
    _refused(fifo, "is a FIFO, not a regular file")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_character_device_is_refused_and_left_alone(tmp_path):
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # like /dev/null, but ours
    except PermissionError:
        pytest.skip("making a device node needs root (CI runs as root)")
    _refused(device, "is a character device, not a regular file")
    with pytest.raises(UsageError):
        SecretSink(device).store("api_key/a", {"api_key": "am_secret_never_written"})
    assert stat.S_ISCHR(device.lstat().st_mode)


def test_a_socket_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a short relative path: socket paths are limited to ~107 bytes
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind("s.sock")
        _refused("s.sock", "is a socket, not a regular file")


def test_a_directory_is_refused(tmp_path):
    _refused(tmp_path, "is a directory, not a regular file")


def test_anything_under_proc_is_refused(tmp_path, monkeypatch):
    fake_proc = tmp_path / "proc"
    (fake_proc / "self").mkdir(parents=True)
    (fake_proc / "self" / "comm").write_text("mailctl\n")  # procfs shows "regular" files
    monkeypatch.setattr(secrets_module, "PSEUDO_FILESYSTEMS", (str(fake_proc),))
    _refused(fake_proc / "self" / "comm", "kernel pseudo-filesystem")
    _refused(fake_proc / "new.json", "kernel pseudo-filesystem")
    assert (fake_proc / "self" / "comm").read_text() == "mailctl\n"


def test_the_real_proc_and_sys_are_on_the_refused_list():
    assert set(secrets_module.PSEUDO_FILESYSTEMS) >= {"/proc", "/sys"}


def test_a_symlink_is_followed_the_target_updated_and_the_link_kept(tmp_path):
    target = tmp_path / "vault" / "secrets.json"
    target.parent.mkdir()
    link = tmp_path / "s.json"
    link.symlink_to(target)
    sink = SecretSink(link)
    sink.check_writable()
    sink.store("api_key/a", {"api_key_id": "1", "api_key": "am_secret_1"})
    sink.store("api_key/b", {"api_key_id": "2", "api_key": "am_secret_2"})
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert [r["secret"] for r in json.loads(target.read_text())] == ["am_secret_1", "am_secret_2"]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_a_symlink_to_a_fifo_is_refused(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "s.json").symlink_to(tmp_path / "fifo")
    _refused(tmp_path / "s.json", "is a FIFO")


def test_a_huge_existing_file_is_refused_without_being_read(tmp_path, monkeypatch):
    huge = tmp_path / "s.json"
    with huge.open("wb") as handle:
        handle.truncate(secrets_module.MAX_SINK_BYTES + 1)  # sparse: costs no disk
    reads = []
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or b"")
    _refused(huge, "larger than any mailctl secrets file")
    assert reads == []


def test_reading_is_bounded_even_when_the_size_lies(tmp_path, monkeypatch):
    path = tmp_path / "s.json"
    path.write_text("[" + " " * 100 + "]")
    monkeypatch.setattr(secrets_module, "MAX_SINK_BYTES", 50)
    small = Followed(path, os.lstat(path), ())
    monkeypatch.setattr(SecretSink, "_target", lambda self: small)  # as if stat said it was small
    with pytest.raises(UsageError, match="larger than any mailctl secrets file"):
        SecretSink(path).check_writable()


def test_an_existing_file_gets_mode_0600(tmp_path):
    path = tmp_path / "s.json"
    path.write_text("[]\n")
    path.chmod(0o644)
    SecretSink(path).store("api_key/a", {"api_key": "am_secret_1"})
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(json.loads(path.read_text())) == 1


def test_an_empty_file_is_accepted_and_a_json_object_refused(tmp_path):
    (tmp_path / "empty.json").write_text("")
    SecretSink(tmp_path / "empty.json").check_writable()
    SecretSink(tmp_path / "empty.json").store("api_key/a", {"api_key": "am_secret_1"})
    assert len(json.loads((tmp_path / "empty.json").read_text())) == 1
    (tmp_path / "object.json").write_text('{"secret": 1}')
    _refused(tmp_path / "object.json", "not a mailctl secrets file")


# -- appending ----------------------------------------------------------------------------------


def test_no_temporary_file_is_ever_made(tmp_path, monkeypatch):
    made = []
    real_open = os.open
    monkeypatch.setattr(os, "open", lambda p, *a, **k: made.append(str(p)) or real_open(p, *a, **k))
    sink = SecretSink(tmp_path / "s.json")
    for i in range(5):
        sink.store(f"api_key/k{i}", {"api_key": f"am_secret_{i}"})
    assert {Path(p).name for p in made} <= {"s.json", tmp_path.name}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.json"]


def test_recording_n_secrets_costs_io_linear_in_n(tmp_path, monkeypatch):
    read, written = [], []
    real_pread, real_pwrite = os.pread, os.pwrite
    monkeypatch.setattr(os, "pread", lambda fd, n, off: read.append(n) or real_pread(fd, n, off))
    monkeypatch.setattr(os, "pwrite", lambda fd, data, off: written.append(len(data)) or real_pwrite(fd, data, off))
    path = tmp_path / "s.json"
    sink = SecretSink(path)
    count = 2000
    for i in range(count):
        sink.store(f"api_key/k{i}", {"api_key_id": str(i), "prefix": "am_x", "api_key": f"am_secret_{i:08d}"})
    assert len(json.loads(path.read_text())) == count
    assert max(read) <= secrets_module.TAIL_BYTES  # each append reads the tail only
    assert sum(written) <= 1.01 * path.stat().st_size + 4 * count  # each record written once


def test_a_torn_tail_loses_only_the_record_being_written(tmp_path):
    path = tmp_path / "s.json"
    sink = SecretSink(path)
    for i in range(3):
        sink.store(f"api_key/k{i}", {"api_key": f"am_secret_{i}"})
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"am_secret_2") + 4])  # power lost mid-record
    SecretSink(path).check_writable()  # still accepted
    SecretSink(path).store("api_key/k3", {"api_key": "am_secret_3"})
    assert [r["secret"] for r in json.loads(path.read_text())] == ["am_secret_0", "am_secret_1", "am_secret_3"]


def test_a_torn_first_record_leaves_an_empty_array_to_append_to(tmp_path):
    path = tmp_path / "s.json"
    path.write_bytes(b'[\n  {\n    "address": "api_key/a",\n    "secr')
    SecretSink(path).store("api_key/b", {"api_key": "am_secret_b"})
    assert [r["address"] for r in json.loads(path.read_text())] == ["api_key/b"]


def test_a_missing_closing_bracket_after_a_whole_record_is_repaired(tmp_path):
    path = tmp_path / "s.json"
    SecretSink(path).store("api_key/a", {"api_key": "am_secret_a"})
    path.write_bytes(path.read_bytes().rstrip()[:-1])  # the "]" never reached the disk
    SecretSink(path).store("api_key/b", {"api_key": "am_secret_b"})
    assert [r["address"] for r in json.loads(path.read_text())] == ["api_key/a", "api_key/b"]


def test_a_compact_array_written_by_hand_is_appended_to(tmp_path):
    path = tmp_path / "s.json"
    path.write_text('[{"address": "api_key/old", "secret": "am_old"}]')
    SecretSink(path).store("api_key/new", {"api_key": "am_new"})
    assert [r["address"] for r in json.loads(path.read_text())] == ["api_key/old", "api_key/new"]


def test_a_failing_write_is_a_mailctl_error_that_names_the_file_not_the_secret(tmp_path, monkeypatch):
    def full(fd, data, offset):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    sink = SecretSink(tmp_path / "s.json")
    with pytest.raises(MailctlError, match="s.json: could not record the secret of api_key/a") as caught:
        sink.store("api_key/a", {"api_key": "am_secret_never_stored"})
    assert "am_secret_never_stored" not in str(caught.value) and "No space left" in str(caught.value)
    assert sink.written == []


def test_pending_names_cannot_collide_with_declared_ones():
    assert pending_name("backend") == "backend#mailctl-pending"
    assert declared_name_of(pending_name("backend")) == "backend"
    assert declared_name_of("backend") is None and declared_name_of(PENDING_SUFFIX) is None
