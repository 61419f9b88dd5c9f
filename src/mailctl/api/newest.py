"""Looks at a newest-first list that read only what was created since the last look.

The API lists pods, inboxes, domains, webhooks and keys newest first (``created_at`` descending).
A shard waiting for what another shard creates looks for it in such a list every few seconds; in a
fleet of 10,000 pods, reading that list whole is 100 requests a look, more than an organisation's
rate limit allows, and each look would take the budget the shards applying need. So once a look
has read a collection whole (or back to what the look before it saw), the next one stops paging
at the first row older than the newest row seen then, less :data:`SKEW` (a row committed late,
the API's servers' clocks), and hands its caller the rows earlier looks read before the new ones:
a wait for a second pod finds it there, or pages through what is new only. What a look can trust
is checked, not assumed: a collection whose rows come out of order, or one without a readable
``created_at``, is read whole at every look. (A row read before may have been deleted since, as a
row of a whole listing may be by the time it is used: the change that uses it fails, and the next
run converges.)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

SKEW = timedelta(seconds=30)


class Looks:
    """Per collection path: the newest ``created_at`` a look has read back from, and the rows the
    looks have read (shared by the apply's worker threads). Every look yields the rows read before
    it, then what is new: a look for one pod passes over the rows of others, and a look for another
    finds them there, so the first look of each thing waited for costs no listing of its own."""

    def __init__(self) -> None:
        self._seen: dict[str, datetime] = {}
        self._read: dict[str, dict[str, dict[str, Any]]] = {}  # path -> row key -> row
        self._whole: set[str] = set()  # read whole at every look: out of order, or no created_at
        self._lock = threading.Lock()

    def rows(self, path: str, pages: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The rows read before, then those of ``pages`` (the listing of ``path``, newest first)
        that may be new since the last look. A caller that stops early (it found its row) moves no
        mark: only a look that read everything it had to does."""
        with self._lock:
            whole = path in self._whole
            seen = None if whole else self._seen.get(path)
            known = [] if whole else list(self._read.get(path, {}).values())
        yield from known
        stop_before = None if seen is None else seen - SKEW
        newest, previous, ordered = seen, None, not whole
        for row in pages:
            created = _created(row)
            if created is None or (previous is not None and created > previous):
                ordered = False  # nothing says where the new rows are: this look reads on to the end
            if ordered and created is not None:
                if stop_before is not None and created < stop_before:
                    break
                newest = created if newest is None else max(newest, created)
                previous = created
                with self._lock:
                    self._read.setdefault(path, {})[_key(row)] = row
            yield row
        with self._lock:
            if not ordered:
                self._whole.add(path)
                self._read.pop(path, None)
            elif newest is not None:
                self._seen[path] = max(newest, self._seen.get(path, newest))


def _key(row: dict[str, Any]) -> str:
    """What tells two rows apart: their text (a row read again replaces itself)."""
    return repr(sorted(row.items(), key=lambda item: item[0]))


def _created(row: dict[str, Any]) -> datetime | None:
    value = row.get("created_at")
    if not isinstance(value, str):
        return None
    try:
        created = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return created if created.tzinfo is not None else None  # naive and aware never compare
