"""Looks at a newest-first list that read only what was created since the last look.

The API lists pods, inboxes, domains, webhooks and keys newest first (``created_at`` descending).
A shard waiting for what another shard creates looks for it in such a list every few seconds; in a
fleet of 10,000 pods, reading that list whole is 100 requests a look, more than an organisation's
rate limit allows, and each look would take the budget the shards applying need. So once a look
has read a collection whole (or back to what the look before it saw), the next one stops paging
at the first row older than the newest row seen then, less :data:`SKEW` (a row committed late,
the API's servers' clocks). What a look can trust is checked, not assumed: a collection whose rows
come out of order, or one without a readable ``created_at``, is read whole at every look.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

SKEW = timedelta(seconds=30)


class Looks:
    """Per (collection path, what is looked for): the newest ``created_at`` a look has read back
    from. Per thing looked for, not per collection: a look for one pod passes over the rows of
    others, so a mark it moved would hide from a look for another a row that look never read."""

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], datetime] = {}
        self._whole: set[str] = set()  # read whole at every look: out of order, or no created_at
        self._lock = threading.Lock()

    def rows(self, path: str, wanted: str, pages: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The rows of ``pages`` (the listing of ``path``, newest first) that may be new since the
        last look for ``wanted`` (an address). A caller that stops early (it found its row) records
        nothing: only a look that read everything it had to moves the mark."""
        key = (path, wanted)
        with self._lock:
            seen = None if path in self._whole else self._seen.get(key)
        stop_before = None if seen is None else seen - SKEW
        newest, previous, ordered = seen, None, True
        for row in pages:
            created = _created(row)
            if created is None or (previous is not None and created > previous):
                ordered = False  # nothing says where the new rows are: this look reads on to the end
            if ordered and created is not None:
                if stop_before is not None and created < stop_before:
                    break
                newest = created if newest is None else max(newest, created)
                previous = created
            yield row
        with self._lock:
            if not ordered:
                self._whole.add(path)
            elif newest is not None:
                self._seen[key] = max(newest, self._seen.get(key, newest))


def _created(row: dict[str, Any]) -> datetime | None:
    value = row.get("created_at")
    if not isinstance(value, str):
        return None
    try:
        created = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return created if created.tzinfo is not None else None  # naive and aware never compare
