"""Looks at a newest-first list read what may be new since the last look, and read whole whenever
the order cannot be trusted (mailctl.api.newest)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mailctl.api.newest import SKEW, Looks

PATH = "/v0/pods"


def rows(*seconds: int | None) -> list[dict[str, Any]]:
    """Rows created at those seconds past 12:00 (None: no created_at), as listed; each row's id
    is its second (or its place, without one)."""
    return [
        {"id": f"r{s}" if s is not None else f"n{i}", **({} if s is None else {"created_at": stamp(s)})}
        for i, s in enumerate(seconds)
    ]


def look(looks: Looks, listing: list[dict[str, Any]], path: str = PATH) -> tuple[list[str], list[str]]:
    """(every row the look yields, the rows it took from the listing: what it paged through)."""
    paged: list[str] = []

    def pages() -> Iterator[dict[str, Any]]:
        for row in listing:
            paged.append(row["id"])
            yield row

    return [row["id"] for row in looks.rows(path, pages())], paged


def test_the_first_look_pages_through_all_and_a_later_one_stops_past_the_skew_below_what_it_saw():
    looks = Looks()
    assert look(looks, rows(600, 500, 100)) == (["r600", "r500", "r100"], ["r600", "r500", "r100"])
    # new rows at 700 and 650; 600 and 580 (inside the 30 s skew) still paged; 500 ends the look
    yielded, paged = look(looks, rows(700, 650, 600, 580, 500, 100))
    assert paged == ["r700", "r650", "r600", "r580", "r500"]
    assert set(yielded) == {"r700", "r650", "r600", "r580", "r500", "r100"}  # the rows read before too
    assert look(looks, rows(700, 650, 600, 580, 500, 100))[1] == ["r700", "r650"]  # mark 700: 650 < 670


def test_a_look_that_stops_early_moves_no_mark():
    looks = Looks()
    look(looks, rows(600, 500, 100))
    found = looks.rows(PATH, iter(rows(900, 800, 600, 500)))
    assert {next(found)["id"] for _ in range(4)} == {"r600", "r500", "r100", "r900"}  # read before, then new
    found.close()  # the caller found its row: 800 was never read
    assert "r800" in look(looks, rows(900, 800, 600, 500))[1]


def test_rows_out_of_order_or_without_created_at_make_every_look_page_through_all():
    naive = [{"id": "n0", "created_at": "2026-12-06T12:10:00"}, *rows(500, 100, 50)[1:]]  # no zone: not comparable
    for listing in (rows(500, 600, 100), rows(600, None, 100), naive):
        looks = Looks()
        assert len(look(looks, listing)[1]) == 3
        assert look(looks, rows(700, 600, 100, 50)) == (["r700", "r600", "r100", "r50"],) * 2  # never trusted again


def test_disorder_met_in_a_later_look_pages_that_look_to_the_end():
    looks = Looks()
    look(looks, rows(600, 500))
    assert look(looks, rows(700, 100, 800, 50))[1] == ["r700", "r100"]  # 100 is below 600 - 30 s: it ends
    assert look(looks, rows(710, 720, 100, 50))[1] == ["r710", "r720", "r100", "r50"]  # 720 after 710


def test_a_look_for_another_thing_finds_the_rows_an_earlier_look_paged_past():
    """A look for pod/t paged past pod/u's row (r500); the look for pod/u, which starts below the
    mark pod/t's looks moved, still sees it: every look yields the rows read before."""
    looks = Looks()
    look(looks, rows(600, 500))
    look(looks, rows(900, 600, 500))
    yielded, paged = look(looks, rows(900, 600, 500))
    assert "r500" in yielded and paged == ["r900", "r600"]  # r600 ends the look (below 900 - 30 s)


def test_each_collection_has_its_own_mark_and_rows():
    looks = Looks()
    look(looks, rows(600, 500))
    assert look(looks, rows(100, 50), "/v0/domains") == (["r100", "r50"],) * 2


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
        read |= {row["id"] for row in looks.rows(PATH, iter(listing))}
        assert {f"r{i}" for _, i in committed} <= read


def stamp(second: int) -> str:
    return f"2026-12-06T12:{second // 60:02d}:{second % 60:02d}Z"
