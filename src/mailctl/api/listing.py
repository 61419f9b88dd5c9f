"""Read a long organisation-wide list from both ends at once: half the round trips in a row.

Pages are opaque cursors, so one listing cannot be split; but every list endpoint mailctl reads
whole takes ``ascending``. When the first page (newest first) says there is more, a second walker
starts from the oldest row, and each stops when it reaches a row the other has read. Each walker
reads its side in order, so once they meet every row has been read by one of them. The newest-first
walker alone decides that the list is complete (it stops the other): a server that ignored
``ascending`` would send the oldest-first walker rows the first page already had, so that walker
stops at once and the listing is read front to back as before.

A list that fits in one page costs one request, as before. Rows come back newest first.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import islice
from typing import Any

from mailctl.api.client import AgentMailClient
from mailctl.api.responses import ApiObject
from mailctl.api.rows import checked_value
from mailctl.kinds.fields import TEXT

PAGE = 100  # the largest page the API serves


class _Meeting:
    """Both walkers' rows and the ids each has read; ``complete`` once the newest-first walker is done."""

    def __init__(self, id_field: str):
        self.id_field = id_field
        self.lock = threading.Lock()
        self.complete = False
        self.rows: tuple[list[dict[str, Any]], list[dict[str, Any]]] = ([], [])
        self.ids: tuple[set[Any], set[Any]] = (set(), set())

    def take(self, side: int, rows: Iterator[dict[str, Any]]) -> None:
        """Keep ``rows`` (side 0: newest first, 1: oldest first) until they reach the other side's."""
        mine, theirs = self.ids[side], self.ids[1 - side]
        for row in rows:
            key = row[self.id_field]
            with self.lock:
                if self.complete or key in theirs:
                    return
                mine.add(key)
                self.rows[side].append(row)

    def finish(self) -> None:
        with self.lock:
            self.complete = True


Check = Callable[[ApiObject], ApiObject]  # a row as read, or UnexpectedResponse


def list_both_ends(
    client: AgentMailClient, path: str, items_key: str, id_field: str, check: Check | None = None
) -> list[dict[str, Any]]:
    """Every row of ``path`` (as ``client.list_all``), read from both ends when it is long. Each
    row passes ``check`` as it arrives (at least: its id is text, since the walkers compare ids)."""
    check = check or partial(_with_text_id, id_field)
    newest = map(check, client.paginate(path, items_key, page_size=PAGE))
    first: list[dict[str, Any]] = [*islice(newest, PAGE)]
    if len(first) < PAGE:
        return [*first, *newest]  # one page (or a short page with more after it)
    meeting = _Meeting(id_field)
    meeting.take(0, iter(first))
    oldest = map(check, client.paginate(path, items_key, params={"ascending": "true"}, page_size=PAGE))
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="mailctl-list") as pool:
        other = pool.submit(meeting.take, 1, oldest)
        try:
            meeting.take(0, newest)
        finally:
            meeting.finish()  # the other walker stops at its next row, even if this one failed
        other.result()
    newer, older = meeting.rows
    return newer + older[::-1]


def _with_text_id(id_field: str, row: ApiObject) -> ApiObject:
    checked_value(row, id_field, TEXT)  # absent or null: ``take`` reports it (ApiObject)
    return row
