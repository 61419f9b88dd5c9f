"""plan --out and drift --out write a whole file or nothing: an interrupted write (here: a kill
arriving while the data is being flushed) leaves the previous file intact and no temp file."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from mailctl import atomic
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
    from mailctl.errors import UsageError

    with pytest.raises(UsageError, match="cannot write plan file .*No such file or directory"):
        _save(tmp_path / "missing" / "x.plan", "T")
