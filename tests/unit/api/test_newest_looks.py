"""Looks at a newest-first list read what may be new since the last look, and read whole whenever
the order cannot be trusted (mailctl.api.newest)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mailctl.api.newest import SKEW, Looks

PATH = "/v0/pods"


def rows(*seconds: int | None) -> list[dict[str, Any]]:
    """Rows created at those seconds past 12:00 (None: no created_at), as listed."""
    return [
        {"id": f"r{i}", **({} if s is None else {"created_at": f"2026-12-06T12:{s // 60:02d}:{s % 60:02d}Z"})}
        for i, s in enumerate(seconds)
    ]


def look(looks: Looks, listing: list[dict[str, Any]]) -> list[str]:
    return [row["id"] for row in looks.rows(PATH, "pod/t", iter(listing))]


def test_the_first_look_reads_all_and_a_later_one_stops_past_the_skew_below_what_it_saw():
    looks = Looks()
    assert look(looks, rows(600, 500, 100)) == ["r0", "r1", "r2"]
    # new rows at 700 and 650; 600 and 580 (inside the 30 s skew) still read; 500 ends the look
    assert look(looks, rows(700, 650, 600, 580, 500, 100)) == ["r0", "r1", "r2", "r3"]
    assert look(looks, rows(700, 650, 600, 580, 500, 100)) == ["r0"]  # the mark moved to 700: 650 < 670


def test_a_look_that_stops_early_moves_no_mark():
    looks = Looks()
    look(looks, rows(600, 500, 100))
    found = looks.rows(PATH, "pod/t", iter(rows(900, 800, 600, 500)))
    assert next(found)["id"] == "r0"
    found.close()  # the caller found its row: 800 was never read
    assert look(looks, rows(900, 800, 600, 500)) == ["r0", "r1", "r2"]


def test_rows_out_of_order_or_without_created_at_make_every_look_read_whole():
    naive = [{"id": "r0", "created_at": "2026-12-06T12:10:00"}, *rows(500, 100, 50)[1:]]  # no zone: not comparable
    for listing in (rows(500, 600, 100), rows(600, None, 100), naive):
        looks = Looks()
        assert len(look(looks, listing)) == 3
        assert len(look(looks, rows(700, 600, 100, 50))) == 4  # never trusted again


def test_disorder_met_in_a_later_look_reads_that_look_to_the_end():
    looks = Looks()
    look(looks, rows(600, 500))
    assert look(looks, rows(700, 100, 800, 50)) == ["r0"]  # 100 is below 600 - 30 s: the look ends
    assert look(looks, rows(710, 720, 100, 50)) == ["r0", "r1", "r2", "r3"]  # 720 after 710: reads on


def test_each_collection_and_each_thing_looked_for_has_its_own_mark():
    """A look for pod/t passed over pod/u's row without reading it as pod/u: a look for pod/u must
    still read it, however far the look for pod/t moved its mark."""
    looks = Looks()
    look(looks, rows(600, 500))
    assert [r["id"] for r in looks.rows("/v0/domains", "domain/d", iter(rows(100, 50)))] == ["r0", "r1"]
    assert [r["id"] for r in looks.rows(PATH, "pod/u", iter(rows(600, 500)))] == ["r0", "r1"]
    assert look(looks, rows(600, 500)) == ["r0"]  # pod/t's own mark: 500 < 570


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[tuple[int, int]], list[int]]:
    """Rows as (created second, committed second), committed at most SKEW after their creation
    (a late commit); and the seconds at which looks are made."""
    rows = []
    for _ in range(draw(st.integers(0, 40))):
        created = draw(st.integers(0, 300))
        rows.append((created, created + draw(st.integers(0, int(SKEW.total_seconds())))))
    looks = sorted(draw(st.lists(st.integers(0, 400), min_size=1, max_size=8)))
    return rows, looks


@given(histories())
@settings(max_examples=300, deadline=None)
def test_every_committed_row_is_read_by_the_first_look_after_its_commit_or_an_earlier_one(
    history: tuple[list[tuple[int, int]], list[int]],
) -> None:
    rows, look_times = history
    looks, read = Looks(), set()
    for now in look_times:
        committed = [(c, i) for i, (c, at) in enumerate(rows) if at <= now]
        listing = [{"id": f"r{i}", "created_at": stamp(c)} for c, i in sorted(committed, reverse=True)]
        read |= {row["id"] for row in looks.rows(PATH, "pod/t", iter(listing))}
        assert {f"r{i}" for _, i in committed} <= read


def stamp(second: int) -> str:
    return f"2026-12-06T12:{second // 60:02d}:{second % 60:02d}Z"
