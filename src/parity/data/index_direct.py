"""The chunk index and the data version rows of an embedded workspace, through stdlib ``sqlite3``.

An incremental add's whole database work is a few statements: which chunks are stored already,
the new packs and chunks, one record row. Importing SQLAlchemy for them (~110-250 ms) cost more
than the add itself, so the add goes through this module when ``store.meta.direct`` can open
the workspace's own SQLite file (exactly at this Parity's schema); otherwise, and for a team
database or a server, through ``parity.data.index.ChunkIndex`` and the metadata store.

Both paths write the same rows with the same transactions: each write is one ``BEGIN
IMMEDIATE`` … ``COMMIT`` (rolled back on any error), duplicates are skipped, and the add holds
the same ``data-add`` file lock beside the database. Answers are hints about the object store
as there: a chunk is located only in a pack that exists.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from parity.data.manifest import DATA_KIND, Chunk
from parity.data.versions import load_version
from parity.store.meta.direct import open_direct_sqlite
from parity.store.meta.errors import sqlite_error
from parity.store.meta.locks import check_name, file_lock

if TYPE_CHECKING:
    from parity.store.objects.store import ObjectStore

_BATCH = 500  # parameters per statement, well under SQLite's limit
_SELECT = 'SELECT digest, pack, "offset", stored, size FROM data_chunks WHERE digest IN'
_INSERT_CHUNK = (
    'INSERT INTO data_chunks (digest, pack, "offset", stored, size) VALUES (?, ?, ?, ?, ?) '
    "ON CONFLICT (digest) DO NOTHING"
)
_INSERT_PACK = (
    "INSERT INTO data_packs (digest, created_ms) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING"
)
_DELETE_CHUNKS = "DELETE FROM data_chunks WHERE pack IN"
_DELETE_PACKS = "DELETE FROM data_packs WHERE digest IN"
_DELETE_RECORDS = "DELETE FROM records WHERE kind = ? AND id IN"
_INSERT_RECORD = (
    "INSERT INTO records (id, kind, created_ms, label) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (id) DO NOTHING"
)


class DirectDataIndex:
    """``ChunkIndexPort`` and the record rows of data versions, on one ``sqlite3`` connection."""

    def __init__(self, connection: sqlite3.Connection, database: Path, store: ObjectStore) -> None:
        self._db = connection
        self.database = database
        self.store = store
        self._present_packs: set[str] = set()
        self._empty: bool | None = None

    @property
    def url(self) -> str:
        return f"sqlite:///{self.database}"

    def close(self) -> None:
        self._db.close()

    @contextlib.contextmanager
    def _transaction(self, begin: str = "BEGIN") -> Iterator[sqlite3.Connection]:
        """One transaction (``BEGIN IMMEDIATE`` for writes): committed when the block ends,
        rolled back on any error; database errors come out as ParityErrors."""
        try:
            self._db.execute(begin)
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise sqlite_error(exc, str(self.database)) from exc

    def _is_empty(self) -> bool:
        """A first add into a new store asks nothing: the index is empty (asked once)."""
        if self._empty is None:
            with self._transaction() as db:
                self._empty = db.execute("SELECT 1 FROM data_chunks LIMIT 1").fetchone() is None
        return self._empty

    def locate(self, digests: Iterable[str]) -> dict[str, Chunk]:
        """Where the known ones among ``digests`` are stored (packs checked to exist)."""
        wanted = list(dict.fromkeys(digests))
        found: dict[str, Chunk] = {}
        if not wanted or self._is_empty():
            return found
        with self._transaction() as db:  # one snapshot for every batch
            for start in range(0, len(wanted), _BATCH):
                batch = wanted[start : start + _BATCH]
                query = f"{_SELECT} ({', '.join('?' * len(batch))})"
                for digest, pack, offset, stored, size in db.execute(query, batch):
                    found[digest] = Chunk(digest, pack, offset, stored, size)
        packs = {chunk.pack for chunk in found.values()} - self._present_packs
        missing = self.store.missing(packs)
        self._present_packs |= packs - missing
        return {d: c for d, c in found.items() if c.pack not in missing}

    def add(self, chunks: Iterable[Chunk], packs: Sequence[str], created_ms: int) -> None:
        """Remember new packs and the chunks in them, in one transaction."""
        # A delta (a chunk with a base) cannot be a row: it is found through its version only.
        rows = [(c.digest, c.pack, c.offset, c.stored, c.size) for c in chunks if c.base is None]
        with self._transaction("BEGIN IMMEDIATE") as db:
            db.executemany(_INSERT_PACK, [(p, created_ms) for p in packs])
            db.executemany(_INSERT_CHUNK, rows)
        self._empty = False if rows else self._empty

    def known_packs(self) -> set[str]:
        with self._transaction() as db:
            return {row[0] for row in db.execute("SELECT digest FROM data_packs")}

    def forget(self, packs: Iterable[str], versions: Iterable[str]) -> None:
        """Drop deleted packs and data versions from the index (gc), in one transaction."""
        pack_list, version_list = list(packs), list(versions)
        with self._transaction("BEGIN IMMEDIATE") as db:
            for start in range(0, len(pack_list), _BATCH):
                batch = pack_list[start : start + _BATCH]
                marks = ", ".join("?" * len(batch))
                db.execute(f"{_DELETE_CHUNKS} ({marks})", batch)
                db.execute(f"{_DELETE_PACKS} ({marks})", batch)
            for start in range(0, len(version_list), _BATCH):
                batch = version_list[start : start + _BATCH]
                marks = ", ".join("?" * len(batch))
                db.execute(f"{_DELETE_RECORDS} ({marks})", [DATA_KIND, *batch])

    def index_version(self, data_version_id: str, created_ms: int = 0) -> int:
        """Index a data version whose packs and manifest are in the store: its record and its
        chunks. Returns the number of chunks indexed."""
        version = load_version(self.store, data_version_id)
        chunks = version.stored_whole()  # deltas' bases included, deltas left out
        self.add(chunks.values(), version.packs, created_ms)
        self.index_records([(data_version_id, DATA_KIND, created_ms, None)])
        return len(chunks)

    def index_records(self, entries: Iterable[tuple[str, str, int, str | None]]) -> None:
        """Remember stored records as (id, kind, created_ms, label); known ids are skipped."""
        rows = list(entries)
        with self._transaction("BEGIN IMMEDIATE") as db:
            db.executemany(_INSERT_RECORD, rows)

    def exclusive(self, name: str) -> contextlib.AbstractContextManager[None]:
        """The lock ``name`` beside the database, the one ``MetadataStore.exclusive`` takes."""
        return file_lock(str(self.database), check_name(name))


def open_direct_index(database: Path, store: ObjectStore) -> DirectDataIndex | None:
    """The direct index of the SQLite database at ``database``, or None when it is not exactly
    at this Parity's schema (missing, older, newer): the caller then uses the metadata store,
    which migrates it or says why it cannot."""
    connection = open_direct_sqlite(database, write=True)
    return None if connection is None else DirectDataIndex(connection, database, store)
