"""The stat cache: (path, size, mtime_ns, ctime_ns, inode) → digest, so an unchanged file is
never read again.

It lives in ``.parity/cache/stat.db`` (stdlib sqlite3, WAL), not in the metadata store: inode
numbers and mtimes describe one machine's file system and mean nothing in a team PostgreSQL, and
``parity data status`` must answer without importing SQLAlchemy. Losing it only costs a re-read.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

import orjson

from parity.core.errors import StorageError

CACHE_FORMAT = 3
# A file written again within the file system's timestamp granularity after it was read would
# keep its mtime; entries modified that recently are not trusted (git's "racily clean" rule:
# any later write moves mtime past the cached one, so older entries are safe). Measured on the
# system clock, the window must cover the coarsest granularity (FAT: 2 s) and clock skew; a scan
# marked on the file system's own clock (``StatCache.mark``) needs none.
RACY_WINDOW_NS = 2_000_000_000
CLOCK_SUFFIX = ".clock"


class ScanMark(NamedTuple):
    """When a scan started, and how long before it a file's mtime must be to be trusted."""

    started_ns: int
    window_ns: int


# (size, mtime_ns, ctime_ns, inode): a plain tuple, because status builds 40,000 of them.
Stat = tuple[int, int, int, int]
SIZE, MTIME = 0, 1


Entries = dict[str, str]


def signature(stat: Stat) -> str:
    """How the cache writes a stat: "size:mtime_ns:ctime_ns:inode:"."""
    return f"{stat[0]}:{stat[1]}:{stat[2]}:{stat[3]}:"


def cached_digest(entries: Entries, path: str, stat: Stat) -> str | None:
    """The digest cached for ``path`` if its stat is the one cached with it, else None."""
    entry = entries.get(path)
    if entry is None:
        return None
    expected = signature(stat)
    return entry[len(expected) :] if entry.startswith(expected) else None


_SELECT_ENTRIES = "SELECT path, entry FROM stat WHERE path IN"
_LOOKUP_BATCH = 500  # parameters per statement, well under SQLite's limit

# How long opening the cache keeps trying while other processes hold it (see StatCache._open).
_OPEN_WAIT_S = 10.0


class StatCache:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=60, isolation_level=None)
            self._open()
        except sqlite3.Error as exc:
            raise StorageError(
                f"cannot open the stat cache {path}: {exc}", hint=f"delete {path} and retry"
            ) from exc

    def _open(self) -> None:
        # Switching a new database to WAL takes a lock SQLite does not wait for (its busy
        # handler is not called), so processes opening a new cache at once may be told
        # "database is locked" at once: try again for a while, as the busy timeout would.
        deadline = time.monotonic() + _OPEN_WAIT_S
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                if self._version() != CACHE_FORMAT:
                    self._rebuild()
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def mark(self, target: Path) -> ScanMark:
        """Mark the start of a scan of ``target``, before any of its files is read.

        The mark is the mtime the file system gives the cache's clock file, touched now: when
        ``target`` is on the same file system, a file whose mtime is older was last written
        before this instant, and any write after it moves the file's mtime to the mark or past
        it. So the scan's digests are trusted for every file older than the mark, even one
        written a millisecond before (git's rule, with the clock file in the index's place),
        and the first status after an add answers from the cache like later ones. Elsewhere,
        or when the clock file cannot be touched, the system clock with ``RACY_WINDOW_NS``.
        Like git, it takes a folder's files to be on the folder's own file system (a mount of
        a coarser one inside it is not looked for).
        """
        clock = self.path.with_name(self.path.name + CLOCK_SUFFIX)
        wall = ScanMark(time.time_ns(), RACY_WINDOW_NS)
        try:
            with open(clock, "a", encoding="utf-8"):
                pass
            os.utime(clock)  # now, by the file system's clock
            touched = clock.stat()
            if target.stat().st_dev != touched.st_dev:
                return wall
        except OSError:
            return wall
        return ScanMark(touched.st_mtime_ns, 0)

    def _version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _rebuild(self) -> None:
        # Two processes may open a new cache at once: the write lock makes one build the
        # tables and the other, checking again under it, find them built.
        self._db.execute("BEGIN IMMEDIATE")
        try:
            if self._version() != CACHE_FORMAT:
                # A cache is disposable: rebuild it rather than migrate it.
                self._db.execute("DROP TABLE IF EXISTS stat")
                self._db.execute("DROP TABLE IF EXISTS clean")
                # One text column "size:mtime_ns:ctime_ns:inode:digest": read back with dict()
                # at C speed and matched with one string comparison per file.
                self._db.execute(
                    "CREATE TABLE stat (path TEXT PRIMARY KEY, entry TEXT) WITHOUT ROWID"
                )
                # The last tree status found identical to a version, as {name: signature}:
                # an unchanged tree is then confirmed without reading the version's record.
                self._db.execute(
                    "CREATE TABLE clean (key TEXT PRIMARY KEY, version TEXT, names BLOB)"
                )
                self._db.execute(f"PRAGMA user_version={CACHE_FORMAT}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def under(self, key: str) -> Entries:
        """Every entry for ``key`` itself or anything below it (``key/…``); look one up with
        ``cached_digest``."""
        rows = self._db.execute(
            "SELECT path, entry FROM stat WHERE path = ? OR (path >= ? AND path < ?)",
            (key, key + "/", key + "0"),  # "0" sorts right after "/"
        )
        return dict(rows)

    def entries(self, paths: Iterable[str]) -> Entries:
        """The entries of ``paths`` (those it has), as ``under`` gives them: for an add that
        settled most of a folder without them and looks up the few files left."""
        wanted = list(paths)
        found: Entries = {}
        for start in range(0, len(wanted), _LOOKUP_BATCH):
            batch = wanted[start : start + _LOOKUP_BATCH]
            marks = ", ".join("?" * len(batch))
            found.update(self._db.execute(f"{_SELECT_ENTRIES} ({marks})", batch))
        return found

    def record(
        self,
        entries: Iterable[tuple[str, Stat, str]],
        scan_started_ns: int,
        window_ns: int = RACY_WINDOW_NS,
    ) -> None:
        """Remember digests; entries changed too close to the scan are left out (see above)."""
        limit = scan_started_ns - window_ns
        rows = [
            (path, signature(stat) + digest)
            for path, stat, digest in entries
            if stat[MTIME] < limit
        ]
        if not rows:
            return
        try:
            with self._transaction():
                self._db.executemany("INSERT OR REPLACE INTO stat VALUES (?, ?)", rows)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot write the stat cache {self.path}: {exc}") from exc

    def clean_tree(self, key: str, version: str) -> dict[str, str] | None:
        """The signatures of the files ``key`` held when it was last found equal to
        ``version`` (None if it never was, or was found equal to another version since)."""
        row = self._db.execute("SELECT version, names FROM clean WHERE key = ?", (key,)).fetchone()
        if row is None or row[0] != version:
            return None
        names: dict[str, str] = orjson.loads(row[1])
        return names

    def remember_clean(
        self,
        key: str,
        version: str,
        stats: dict[str, Stat],
        scan_started_ns: int,
        window_ns: int = RACY_WINDOW_NS,
    ) -> None:
        """Record that ``key`` held exactly ``version`` with these stats; not if any file is
        recent enough to be racily clean."""
        limit = scan_started_ns - window_ns
        if any(stat[MTIME] >= limit for stat in stats.values()):
            return
        self.remember_signatures(
            key, version, {name: signature(stat) for name, stat in stats.items()}
        )

    def remember_signatures(self, key: str, version: str, signatures: dict[str, str]) -> None:
        """``remember_clean`` with each file's ``signature``, for a caller that
        knows none of these files is racily clean (each was settled by this cache)."""
        names = orjson.dumps(signatures)
        try:
            with self._transaction():
                self._db.execute(
                    "INSERT OR REPLACE INTO clean VALUES (?, ?, ?)", (key, version, names)
                )
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
