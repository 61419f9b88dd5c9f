"""plan --out and drift --out write a whole file or nothing: an interrupted write (here: a kill
arriving while the data is being flushed) leaves the previous file intact and no temp file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from mailctl import atomic
from mailctl.errors import UsageError
from mailctl.plan import planfile
from mailctl.plan.planner import plan as make_plan
from mailctl.resources import POD, ActualState, DesiredState, Resource


def _save(path: Path, name: str) -> None:
    desired = DesiredState()
    desired.add(Resource(POD, "pod/t", {"name": name}))
    planfile.save(str(path), make_plan(desired, ActualState()), desired, ActualState(), [], [])


def test_an_interrupted_plan_out_keeps_the_previous_plan_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "change.plan"
    _save(path, "First")
    before = path.read_text()

    def killed(fd: int) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", killed)
    with pytest.raises(KeyboardInterrupt):
        _save(path, "Second")
    assert path.read_text() == before and json.loads(before)["plan"]["changes"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["change.plan"]  # no temp file left behind


def test_an_interrupted_first_write_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
    with pytest.raises(OSError):
        atomic.write_text(tmp_path / "drift.md", "report\n")
    assert list(tmp_path.iterdir()) == []


def test_the_new_file_replaces_the_old_keeping_its_mode_and_a_symlink(tmp_path):
    real = tmp_path / "real.plan"
    real.write_text("old")
    real.chmod(0o640)
    link = tmp_path / "link.plan"
    link.symlink_to(real)
    atomic.write_text(link, "new\n")
    assert link.is_symlink() and real.read_text() == "new\n"
    assert stat.S_IMODE(real.stat().st_mode) == 0o640


def test_a_new_file_gets_the_usual_mode(tmp_path):
    umask = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "new.plan", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.plan").stat().st_mode) == 0o644


def test_a_fifo_is_written_in_place_not_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # a reader, so opening for writing never blocks
    try:
        atomic.write_text(fifo, "report\n")
        assert os.read(reader, 100) == b"report\n"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_an_unwritable_plan_path_is_still_a_clear_usage_error(tmp_path):
    with pytest.raises(UsageError, match="cannot write plan file .*No such file or directory"):
        _save(tmp_path / "missing" / "x.plan", "T")


# -- links in a shared directory (as root in CI: "another user" is uid 65534, nobody) -------------


def _shared_link_to(tmp_path: Path, target: Path, owner: int | None) -> Path:
    """shared/out.plan -> target, in a directory like /tmp (0o1777); ``owner``: chown the link."""
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)
    (shared / "out.plan").symlink_to(target)
    if owner is not None:
        try:
            os.chown(shared / "out.plan", owner, owner, follow_symlinks=False)
        except PermissionError:
            pytest.skip("giving a link to another user needs root (CI runs as root)")
    return shared / "out.plan"


def test_a_plan_out_through_a_link_another_user_planted_in_tmp_never_replaces_its_target(tmp_path):
    precious = tmp_path / "precious.conf"  # what the link's planter wants root to overwrite
    precious.write_text("keep me\n")
    link = _shared_link_to(tmp_path, precious, owner=65534)
    with pytest.raises(UsageError, match="cannot write plan file .*owned by uid 65534.*may have planted it"):
        _save(link, "T")
    assert precious.read_text() == "keep me\n" and link.is_symlink()


def test_a_dangling_link_in_tmp_never_makes_a_file_where_it_points(tmp_path):
    link = _shared_link_to(tmp_path, tmp_path / "made-by-root", owner=None)  # even our own link
    with pytest.raises(PermissionError, match="a link there never decides where a new file is made"):
        atomic.write_text(link, "report\n")
    assert not (tmp_path / "made-by-root").exists()


def test_our_own_link_in_tmp_to_an_existing_file_is_followed(tmp_path):
    (tmp_path / "real.plan").write_text("old")
    atomic.write_text(_shared_link_to(tmp_path, tmp_path / "real.plan", owner=None), "new\n")
    assert (tmp_path / "real.plan").read_text() == "new\n"


def test_a_plan_is_never_saved_over_a_secrets_file(tmp_path):
    """Checked again at the write itself: a secrets file that appeared while the plan was being made
    (an apply --secrets-out running meanwhile) is kept, its secrets with it."""
    from mailctl.secrets import SecretSink

    path = tmp_path / "secrets.json"
    SecretSink(path).store("api_key/k", {"api_key_id": "k1", "prefix": "am_", "api_key": "am_secret"})
    before = path.read_bytes()
    with pytest.raises(UsageError, match=r"cannot write plan file .*secrets\.json: is a mailctl secrets file"):
        _save(path, "First")
    with pytest.raises(PermissionError, match="is a mailctl secrets file"):
        atomic.write_text(path, "a report\n")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secrets.json"]


def test_a_torn_secrets_file_is_kept_too(tmp_path):
    path = tmp_path / "secrets.json"
    path.write_text('[\n  {\n    "address": "api_key/k",\n    "secret": "am_sec')  # power lost mid-record
    with pytest.raises(PermissionError, match="is a mailctl secrets file"):
        atomic.write_text(path, "a report\n")
