"""The stat cache: (path, size, mtime_ns, ctime_ns, inode) → digest, so an unchanged file is
never read again.

It lives in ``.parity/cache/stat.db`` (stdlib sqlite3, WAL), not in the metadata store: inode
numbers and mtimes describe one machine's file system and mean nothing in a team PostgreSQL, and
``parity data status`` must answer without importing SQLAlchemy. Losing it only costs a re-read.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from parity.core.errors import StorageError

CACHE_FORMAT = 1
# A file changed again within the file system's timestamp granularity after it was read would
# keep its stat; entries that recent are not trusted (git's "racily clean" rule).
RACY_WINDOW_NS = 2_000_000_000


class Stat(NamedTuple):
    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int


class StatCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version != CACHE_FORMAT:
                # A cache is disposable: rebuild it rather than migrate it.
                self._db.execute("DROP TABLE IF EXISTS stat")
                self._db.execute(
                    "CREATE TABLE stat (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
                    " ctime_ns INTEGER, inode INTEGER, digest TEXT) WITHOUT ROWID"
                )
                self._db.execute(f"PRAGMA user_version={CACHE_FORMAT}")
        except sqlite3.Error as exc:
            raise StorageError(
                f"cannot open the stat cache {path}: {exc}", hint=f"delete {path} and retry"
            ) from exc

    def under(self, key: str) -> dict[str, tuple[Stat, str]]:
        """Every entry for ``key`` itself or anything below it (``key/…``)."""
        rows = self._db.execute(
            "SELECT path, size, mtime_ns, ctime_ns, inode, digest FROM stat"
            " WHERE path = ? OR (path >= ? AND path < ?)",
            (key, key + "/", key + "0"),  # "0" sorts right after "/"
        )
        return {
            path: (Stat(size, mtime, ctime, inode), digest)
            for path, size, mtime, ctime, inode, digest in rows
        }

    def record(self, entries: Iterable[tuple[str, Stat, str]], scan_started_ns: int) -> None:
        """Remember digests; entries changed too close to the scan are left out (see above)."""
        limit = scan_started_ns - RACY_WINDOW_NS
        rows = [
            (path, *stat, digest)
            for path, stat, digest in entries
            if stat.mtime_ns < limit and stat.ctime_ns < limit
        ]
        if not rows:
            return
        try:
            with self._transaction():
                self._db.executemany("INSERT OR REPLACE INTO stat VALUES (?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write the stat cache {self.path}: {exc}") from exc

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
