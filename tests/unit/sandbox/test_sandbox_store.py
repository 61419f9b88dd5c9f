"""The SQLite store: transactions are atomic, serialised across threads, and files persist."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

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
