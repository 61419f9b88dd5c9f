"""The SQLite store: transactions are atomic, serialised across threads, and files persist."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
from pathlib import Path
from typing import Any

import pytest

from mailctl.sandbox import store as store_module
from mailctl.sandbox.store import Cursor, Store


def _insert(store: Store, n: int, kind: str = "pod") -> None:
    with store.transaction() as tx:
        tx.insert(kind, f"id-{n}", org="o", body={"n": n}, created_at="2026-01-01T00:00:00.000Z")


def test_concurrent_transactions_never_lose_or_duplicate_rows() -> None:
    store = Store()
    threads = [threading.Thread(target=lambda i=i: [_insert(store, i * 100 + j) for j in range(50)]) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.transaction() as tx:
        rows = tx.find("pod", org="o")
    assert len(rows) == 400
    assert len({r.seq for r in rows}) == 400  # seq is a total order even with equal created_at


def test_a_failing_transaction_leaves_the_store_unchanged() -> None:
    store = Store()
    _insert(store, 1)
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.insert("pod", "id-2", org="o", body={}, created_at="2026-01-01T00:00:00.000Z")
        tx.delete("pod", "id-1")
        raise RuntimeError("handler failed")
    with store.transaction() as tx:
        assert [r.id for r in tx.find("pod")] == ["id-1"]


def test_file_database_survives_reopening(tmp_path: Path) -> None:
    path = str(tmp_path / "sandbox.db")
    store = Store(path)
    _insert(store, 7)
    store.close()
    with Store(path).transaction() as tx:
        row = tx.get("pod", "id-7")
    assert row is not None and row.body == {"n": 7}


def test_page_is_strictly_after_the_cursor_in_both_orders() -> None:
    store = Store()
    for n in range(5):
        _insert(store, n)
    with store.transaction() as tx:
        first = tx.page("pod", after=None, ascending=True, limit=2, org="o")
        rest = tx.page("pod", after=Cursor(first[-1].created_at, first[-1].seq), ascending=True, limit=10, org="o")
        newest = tx.page("pod", after=None, ascending=False, limit=1, org="o")
    assert [r.id for r in first + rest] == [f"id-{n}" for n in range(5)]
    assert newest[0].id == "id-4"


def test_filters_reject_unknown_columns() -> None:
    with Store().transaction() as tx, pytest.raises(ValueError):
        tx.find("pod", body="x")


def test_the_next_seq_is_read_from_an_index_not_a_scan_of_every_row() -> None:
    """An insert finds the next seq in constant time, so populating N resources is linear in N."""
    store = Store()
    plan = store._conn.execute("EXPLAIN QUERY PLAN SELECT COALESCE(MAX(seq), 0) + 1 FROM resources").fetchall()
    detail = " ".join(str(row[-1]) for row in plan)
    assert "resources_seq" in detail, detail


# -- the --db file's companions (-wal, -shm, -journal) and its claim ------------------------------

NOBODY = 65534
COMPANIONS = pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])


def _give_to_nobody(path: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("giving a file to another user needs root (CI runs as root)")
    os.chown(path, NOBODY, NOBODY, follow_symlinks=False)


@COMPANIONS
def test_a_companion_file_another_user_planted_is_refused_and_left_alone(tmp_path: Path, suffix: str) -> None:
    """A neighbour's 0666 ``sandbox.db-wal`` would receive every secret written, and truncating it
    would wipe committed state: SQLite opens whatever is there."""
    db = tmp_path / "sandbox.db"
    Store(str(db)).close()
    planted = tmp_path / f"sandbox.db{suffix}"
    planted.write_bytes(b"")
    planted.chmod(0o666)
    _give_to_nobody(planted)
    with pytest.raises(PermissionError, match=f"sandbox.db{suffix} belongs to uid 65534"):
        Store(str(db))
    assert planted.read_bytes() == b""


@COMPANIONS
def test_a_companion_file_that_is_a_link_is_refused(tmp_path: Path, suffix: str) -> None:
    precious = tmp_path / "precious"
    precious.write_bytes(b"keep me\n")
    db = tmp_path / "sandbox.db"
    Store(str(db)).close()
    (tmp_path / f"sandbox.db{suffix}").symlink_to(precious)
    with pytest.raises(PermissionError, match=f"sandbox.db{suffix} is a symlink"):
        Store(str(db))
    assert precious.read_bytes() == b"keep me\n"


def test_a_companion_file_with_a_second_hard_link_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    Store(str(db)).close()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.write_bytes(b"")
    os.link(elsewhere, tmp_path / "sandbox.db-wal")
    with pytest.raises(PermissionError, match="sandbox.db-wal has 2 links"):
        Store(str(db))


def test_the_wal_and_shm_are_claimed_owner_only_before_sqlite_opens_the_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nobody can slip a file of their own in between the check and SQLite's open."""
    db = tmp_path / "sandbox.db"
    seen: dict[str, int] = {}
    connect = sqlite3.connect

    def spying_connect(path: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        for suffix in ("-wal", "-shm"):
            info = os.lstat(f"{path}{suffix}")
            assert info.st_uid == os.geteuid()
            seen[suffix] = stat.S_IMODE(info.st_mode)
        return connect(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("mailctl.sandbox.store.sqlite3.connect", spying_connect)
    _insert(Store(str(db)), 1)
    assert seen == {"-wal": 0o600, "-shm": 0o600}
    monkeypatch.undo()
    with Store(str(db)).transaction() as tx:  # the empty files claimed are a valid WAL and index
        assert tx.get("pod", "id-1") is not None


def test_a_db_another_server_created_a_moment_ago_is_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two servers started together on a new --db: the one that loses the O_EXCL create goes on
    (it was "[Errno 17] File exists") once the file passes the same owner and link checks."""
    db = tmp_path / "sandbox.db"
    real_follow = store_module.follow

    def racing_follow(path: str, refuse: Any) -> Any:
        followed = real_follow(path, refuse)
        db.touch(mode=0o600)  # the other server wins the create right after this one looked
        return followed

    monkeypatch.setattr(store_module, "follow", racing_follow)
    _insert(Store(str(db)), 1)


def test_a_db_another_user_created_a_moment_ago_is_still_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "sandbox.db"
    real_follow = store_module.follow

    def racing_follow(path: str, refuse: Any) -> Any:
        followed = real_follow(path, refuse)
        db.touch(mode=0o666)
        _give_to_nobody(db)
        return followed

    monkeypatch.setattr(store_module, "follow", racing_follow)
    with pytest.raises(PermissionError, match="belongs to uid 65534"):
        Store(str(db))


def test_a_refused_companion_leaves_no_new_database_behind(tmp_path: Path) -> None:
    planted = tmp_path / "sandbox.db-wal"
    planted.write_bytes(b"")
    _give_to_nobody(planted)
    with pytest.raises(PermissionError, match="sandbox.db-wal belongs to uid 65534"):
        Store(str(tmp_path / "sandbox.db"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sandbox.db-wal"]


def test_an_existing_db_of_ours_and_its_companions_are_tightened_to_owner_only(tmp_path: Path) -> None:
    """The file holds webhook whsec_ secrets and header values in plain text: one made by an
    older sandbox, by hand or under a loose umask (0644) was kept readable by every user."""
    db = tmp_path / "sandbox.db"
    first = Store(str(db))
    _insert(first, 1)
    first.close()
    names = [db, tmp_path / "sandbox.db-wal", tmp_path / "sandbox.db-shm", tmp_path / "sandbox.db-journal"]
    for name in names[1:]:
        name.touch()  # SQLite removed the WAL and its index on close; empty ones are valid
    for name, mode in zip(names, (0o644, 0o664, 0o666, 0o604), strict=True):
        name.chmod(mode)
    with Store(str(db)).transaction() as tx:
        assert tx.get("pod", "id-1") is not None  # nothing of its content changed
    assert {name.name: stat.S_IMODE(name.stat().st_mode) for name in names} == {name.name: 0o600 for name in names}


def test_tightening_keeps_the_owners_own_bits(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    Store(str(db)).close()
    db.chmod(0o744)
    Store(str(db)).close()
    assert stat.S_IMODE(db.stat().st_mode) == 0o700
