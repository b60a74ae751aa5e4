"""The chunk index in the metadata store: which pack holds each chunk, so a new version stores
only new chunks, across files and versions. Its answers are hints about the object store: a
location is used only if its pack is really there."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from parity.data.manifest import DATA_KIND, Chunk
from parity.data.versions import load_version
from parity.store.meta.data_tables import data_chunks, data_packs
from parity.store.meta.schema import records
from parity.store.meta.store import MetadataStore, insert_ignoring_duplicates

if TYPE_CHECKING:
    from parity.store.objects.store import ObjectStore

_BATCH = 500
_SELECT = 'SELECT digest, pack, "offset", stored, size FROM data_chunks'
_INSERT = 'INSERT INTO data_chunks (digest, pack, "offset", stored, size)'


class ChunkIndex:
    def __init__(self, meta: MetadataStore, store: ObjectStore) -> None:
        self.meta = meta
        self.store = store
        self._present_packs: set[str] = set()
        self._empty: bool | None = None

    def _is_empty(self) -> bool:
        """A first add into a new store asks nothing: the index is empty (asked once)."""
        if self._empty is None:
            with self.meta.read() as connection:
                row = connection.execute(select(data_chunks.c.digest).limit(1)).first()
            self._empty = row is None
        return self._empty

    def locate(self, digests: Iterable[str]) -> dict[str, Chunk]:
        """Where the known ones among ``digests`` are stored (packs checked to exist)."""
        wanted = list(dict.fromkeys(digests))
        found: dict[str, Chunk] = {}
        if not wanted or self._is_empty():
            return found
        with self.meta.read() as connection:
            # The driver's own cursor: SQLAlchemy's row objects cost ~20 µs a row here, and an
            # incremental add of 20,000 files asks about every one of them.
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            try:
                for start in range(0, len(wanted), _BATCH):
                    batch = wanted[start : start + _BATCH]
                    marks = ", ".join([mark] * len(batch))
                    query = f"{_SELECT} WHERE digest IN ({marks})"
                    cursor.execute(query, batch)
                    for digest, pack, offset, stored, size in cursor.fetchall():
                        found[digest] = Chunk(digest, pack, offset, stored, size)
            finally:
                cursor.close()
        packs = {chunk.pack for chunk in found.values()} - self._present_packs
        missing = self.store.missing(packs)
        self._present_packs |= packs - missing
        return {d: c for d, c in found.items() if c.pack not in missing}

    def add(self, chunks: Iterable[Chunk], packs: Sequence[str], created_ms: int) -> None:
        """Remember new packs and the chunks in them, in one transaction."""
        # A delta (a chunk with a base) cannot be a row: it is found through its version only.
        rows = [(c.digest, c.pack, c.offset, c.stored, c.size) for c in chunks if c.base is None]
        with self.meta.write() as connection:
            insert_ignoring_duplicates(
                connection, data_packs, [{"digest": p, "created_ms": created_ms} for p in packs]
            )
            # The driver's executemany: SQLAlchemy compiles parameters per row (~20 µs each).
            mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
            conflict = "ON CONFLICT (digest) DO NOTHING"
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                marks = ", ".join([mark] * 5)
                cursor.executemany(f"{_INSERT} VALUES ({marks}) {conflict}", rows)
            finally:
                cursor.close()
        self._empty = False if rows else self._empty

    def known_packs(self) -> set[str]:
        with self.meta.read() as connection:
            return {row[0] for row in connection.execute(select(data_packs.c.digest))}

    def forget(self, packs: Iterable[str], versions: Iterable[str]) -> None:
        """Drop deleted packs and data versions from the index (gc)."""
        pack_list, version_list = list(packs), list(versions)
        with self.meta.write() as connection:
            for start in range(0, len(pack_list), _BATCH):
                batch = pack_list[start : start + _BATCH]
                connection.execute(delete(data_chunks).where(data_chunks.c.pack.in_(batch)))
                connection.execute(delete(data_packs).where(data_packs.c.digest.in_(batch)))
            for start in range(0, len(version_list), _BATCH):
                batch = version_list[start : start + _BATCH]
                connection.execute(
                    delete(records).where(records.c.id.in_(batch), records.c.kind == DATA_KIND)
                )

    def index_version(self, data_version_id: str, created_ms: int = 0) -> int:
        """Index a data version whose packs and manifest are in the store: its record and its
        chunks. Returns the number of chunks indexed."""
        version = load_version(self.store, data_version_id)
        chunks = version.stored_whole()  # deltas' bases included, deltas left out
        self.add(chunks.values(), version.packs, created_ms)
        self.meta.index_records([(data_version_id, DATA_KIND, created_ms, None)])
        return len(chunks)


def index_version(
    meta: MetadataStore, store: ObjectStore, data_version_id: str, created_ms: int = 0
) -> int:
    """Make a data version fetched from a remote usable here: index its record and chunks.

    Call it after the version's packs and manifest are in ``store`` (pull does). Returns the
    number of chunks indexed.
    """
    return ChunkIndex(meta, store).index_version(data_version_id, created_ms)
