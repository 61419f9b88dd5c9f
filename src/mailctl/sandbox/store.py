"""SQLite storage for the sandbox: one generic table of JSON documents with indexed columns.

Every resource is a row ``(kind, id)`` with the columns the backend filters on (``org``, ``pod``,
``inbox``, ``client_id``, ``ref``) and the rest of its fields as a JSON ``body``. ``seq`` is a
monotonic insertion counter that breaks ``created_at`` ties, so pagination is total and stable.

Concurrency: one connection, one lock. ``Store.transaction()`` holds the lock for the whole
request (``BEGIN IMMEDIATE`` ... ``COMMIT`` or ``ROLLBACK``), so each request sees and writes a
consistent snapshot. File databases use WAL, so state survives a restart (and a crash mid-write);
the file and its ``-wal``/``-shm``/``-journal`` companions must be the sandbox user's own
(``_claim_file``).
The store knows nothing about the API rules: those live in ``mailctl.sandbox.backend``.
"""

from __future__ import annotations

import errno
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from mailctl.local_path import follow, refuse_dangling_shared_link

_SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    kind       TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    org        TEXT    NOT NULL,
    pod        TEXT,
    inbox      TEXT,
    client_id  TEXT,
    ref        TEXT,
    created_at TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    body       TEXT    NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS resources_org   ON resources (kind, org, created_at, seq);
CREATE INDEX IF NOT EXISTS resources_pod   ON resources (kind, pod);
CREATE INDEX IF NOT EXISTS resources_inbox ON resources (kind, inbox);
CREATE INDEX IF NOT EXISTS resources_ref   ON resources (kind, ref);
CREATE INDEX IF NOT EXISTS resources_seq   ON resources (seq);  -- the next seq: MAX(seq) without a scan
CREATE UNIQUE INDEX IF NOT EXISTS resources_client_id
    ON resources (kind, org, client_id) WHERE client_id IS NOT NULL;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""

# Columns a caller may filter on (never interpolate anything else into SQL).
FILTER_COLUMNS = frozenset({"org", "pod", "inbox", "client_id", "ref"})
_COLUMNS = "kind, id, org, pod, inbox, client_id, ref, created_at, seq, body"


@dataclass
class Row:
    """One stored resource. ``body`` is the resource's JSON fields (mutable copy)."""

    kind: str
    id: str
    org: str
    pod: str | None
    inbox: str | None
    client_id: str | None
    ref: str | None
    created_at: str
    seq: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Cursor:
    """A position in a created_at-ordered listing (exclusive)."""

    created_at: str
    seq: int


def _row(values: tuple[Any, ...]) -> Row:
    fields = list(values)
    fields[-1] = json.loads(fields[-1])  # the JSON body is the last column
    return Row(*fields)


def _where(kind: str, filters: dict[str, Any]) -> tuple[str, list[Any]]:
    clauses, args = ["kind = ?"], [kind]
    for column, value in filters.items():
        if column not in FILTER_COLUMNS:
            raise ValueError(f"cannot filter on {column!r}")
        if value is None:
            clauses.append(f"{column} IS NULL")
        else:
            clauses.append(f"{column} = ?")
            args.append(value)
    return " AND ".join(clauses), args


class Tx:
    """The operations available inside one transaction (see ``Store.transaction``)."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn
        self.inserted: set[str] = set()  # the kinds this transaction inserted rows of

    def get(self, kind: str, id: str) -> Row | None:
        cur = self._conn.execute(f"SELECT {_COLUMNS} FROM resources WHERE kind = ? AND id = ?", (kind, id))
        values = cur.fetchone()
        return _row(values) if values else None

    def find(self, kind: str, **filters: Any) -> list[Row]:
        """Every row of ``kind`` matching the filters, oldest first."""
        where, args = _where(kind, filters)
        cur = self._conn.execute(f"SELECT {_COLUMNS} FROM resources WHERE {where} ORDER BY created_at, seq", args)
        return [_row(v) for v in cur.fetchall()]

    def find_one(self, kind: str, **filters: Any) -> Row | None:
        rows = self.find(kind, **filters)
        return rows[0] if rows else None

    def count(self, kind: str, **filters: Any) -> int:
        where, args = _where(kind, filters)
        return int(self._conn.execute(f"SELECT COUNT(*) FROM resources WHERE {where}", args).fetchone()[0])

    def page(self, kind: str, *, after: Cursor | None, ascending: bool, limit: int, **filters: Any) -> list[Row]:
        """Up to ``limit`` rows strictly after ``after`` in (created_at, seq) order."""
        where, args = _where(kind, filters)
        order = "ASC" if ascending else "DESC"
        if after is not None:
            op = ">" if ascending else "<"
            where += f" AND (created_at, seq) {op} (?, ?)"
            args += [after.created_at, after.seq]
        sql = f"SELECT {_COLUMNS} FROM resources WHERE {where} ORDER BY created_at {order}, seq {order} LIMIT ?"
        return [_row(v) for v in self._conn.execute(sql, [*args, limit]).fetchall()]

    def insert(
        self,
        kind: str,
        id: str,
        *,
        org: str,
        body: dict[str, Any],
        created_at: str,
        pod: str | None = None,
        inbox: str | None = None,
        client_id: str | None = None,
        ref: str | None = None,
    ) -> Row:
        self.inserted.add(kind)
        seq = int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM resources").fetchone()[0])
        self._conn.execute(
            f"INSERT INTO resources ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, id, org, pod, inbox, client_id, ref, created_at, seq, json.dumps(body)),
        )
        return Row(kind, id, org, pod, inbox, client_id, ref, created_at, seq, body)

    def update(self, row: Row) -> None:
        """Persist ``row.body`` and ``row.ref`` (the other columns are immutable)."""
        self._conn.execute(
            "UPDATE resources SET body = ?, ref = ? WHERE kind = ? AND id = ?",
            (json.dumps(row.body), row.ref, row.kind, row.id),
        )

    def delete(self, kind: str, id: str) -> bool:
        cur = self._conn.execute("DELETE FROM resources WHERE kind = ? AND id = ?", (kind, id))
        return cur.rowcount > 0

    def delete_where(self, kind: str, **filters: Any) -> int:
        where, args = _where(kind, filters)
        return self._conn.execute(f"DELETE FROM resources WHERE {where}", args).rowcount

    def delete_org(self, org: str, *, keep: list[str]) -> int:
        """Delete every row of one organisation except those whose id is in ``keep``."""
        marks = ", ".join("?" for _ in keep) or "NULL"
        sql = f"DELETE FROM resources WHERE org = ? AND id NOT IN ({marks})"
        return self._conn.execute(sql, [org, *keep]).rowcount

    def get_meta(self, key: str) -> str | None:
        values = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return values[0] if values else None

    def set_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


COMPANIONS = ("-wal", "-shm")  # SQLite's files next to a WAL database, open while it is
ROLLBACK_JOURNAL = "-journal"  # used only before the switch to WAL (and by older files)
_CREATE = os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_NOFOLLOW


OPEN_ERRORS = (OSError, sqlite3.Error)  # what opening a database file can raise (see open_failure)


def open_failure(path: str, exc: BaseException) -> str:
    """What a user is told when the database at ``path`` cannot be opened: the path and the
    reason (an OSError's own text, without its ``[Errno N]``)."""
    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
    return f"cannot open sandbox database {path!r}: {why}"


def _refuse(why: str) -> NoReturn:
    raise PermissionError(errno.EACCES, why)


def _claim_file(path: str) -> None:
    """The database file and its companions, only if the user running the sandbox controls them
    (as for mailctl's own files: ``mailctl.local_path``): never through another user's symlink
    (SQLite would turn the file it names into a database, as root too), never a file another user
    owns (they could add a key of their own to any organisation in it). SQLite opens
    ``<db>-wal``, ``<db>-shm`` and ``<db>-journal`` next to the file the path leads to, whatever
    is there: one a neighbour planted in a shared directory would receive every secret written,
    and truncating it would wipe committed state. So each companion that exists must be a file of
    ours with no other link, and the WAL and its index are created here (owner-only, ``O_EXCL``)
    before SQLite opens them, so nobody slips one in between. New files are owner-only, and those
    of ours that exist are made so (``_owner_only``)."""
    followed = follow(path, _refuse)
    refuse_dangling_shared_link(followed, _refuse)
    companions = {suffix: followed.target.with_name(followed.target.name + suffix) for suffix in COMPANIONS}
    journal = followed.target.with_name(followed.target.name + ROLLBACK_JOURNAL)
    for companion in (*companions.values(), journal):  # refused before anything is made
        _claim(companion, _lstat(companion), create=False, followed=False)
    _claim(followed.target, followed.info, create=True, followed=True)
    for companion in companions.values():
        _claim(companion, _lstat(companion), create=True, followed=False)


def _claim(path: Path, info: os.stat_result | None, *, create: bool, followed: bool) -> None:
    """Check ``path`` (``followed``: reached by ``follow``, which judged its links), or create it
    owner-only when it does not exist and ``create``. Losing the create to another process (a
    second server started on the same new --db) is fine once what it made passes the checks."""
    while info is None and create:
        try:
            os.close(os.open(path, _CREATE, 0o600))
            return
        except FileExistsError:
            info, followed = _lstat(path), False  # None again if it went meanwhile: create it then
    if info is not None:
        _check_owned(path, info, followed=followed)


def _check_owned(path: Path, info: os.stat_result, *, followed: bool) -> None:
    if info.st_uid not in (os.geteuid(), 0):
        _refuse(f"{path} belongs to uid {info.st_uid}, who could read or change any organisation in it")
    if followed:  # the database itself, reached by ``follow``: its links were judged there
        if stat.S_ISDIR(info.st_mode):
            _refuse(f"{path} is a directory, not a database file")
        if not stat.S_ISREG(info.st_mode):
            _refuse(f"{path} is not a regular file (SQLite would fail on it with a bare I/O error)")
        _owner_only(path, info)
        return
    if stat.S_ISLNK(info.st_mode):
        _refuse(f"{path} is a symlink: SQLite would write the database's changes where it points; remove it")
    if not stat.S_ISREG(info.st_mode):
        _refuse(f"{path} is not a regular file; remove it")
    if info.st_nlink > 1:
        _refuse(f"{path} has {info.st_nlink} links: the database's changes would reach another name; remove it")
    _owner_only(path, info)


def _owner_only(path: Path, info: os.stat_result) -> None:
    """Take the group's and others' bits off a file of ours: it holds webhook secrets and header
    values in plain text, and one made by hand, under a loose umask or by an older sandbox was
    0644. Changed through a descriptor of the very file checked (never a symlink swapped in
    since), and left alone if it is not ours (root's, to a user: SQLite reads it as before)."""
    loose = stat.S_IMODE(info.st_mode) & 0o077
    if not loose or info.st_uid != os.geteuid():
        return
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino):
            os.fchmod(fd, stat.S_IMODE(now.st_mode) & ~0o077)
    finally:
        os.close(fd)


def _lstat(path: Path) -> os.stat_result | None:
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None


class Store:
    """A sandbox database: ``":memory:"`` for a throwaway one, or a file path that persists."""

    def __init__(self, path: str = ":memory:"):
        self.path = path
        self._lock = threading.RLock()
        if path != ":memory:":
            _claim_file(path)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        if path != ":memory:":
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.executescript(_SCHEMA)

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """Serialise one unit of work: commit if the block returns, roll back if it raises."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield Tx(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
