"""Deltas: a new chunk of a large file stored as zstd against the previous version's chunk there.

Content-defined chunking finds the chunks a new version shares with the old one, which pays when
edits are clustered. When they are scattered (1 % of a table's rows rewritten anywhere), nearly
every 64 KiB chunk holds an edited row and is new, so deduplication saves nothing. Such a chunk
differs from the previous version's chunk at the same place in a few rows, so zstd with that
chunk's bytes as a raw-content dictionary stores little more than the edited rows.

The rules that keep reads cheap and everything else unchanged:

- The base is the previous version's chunk covering the middle of the new one (by offset), and
  always an entry stored whole: when that chunk is a delta itself, its own base is used. A read
  therefore costs at most two entries (chains of length one).
- A delta is kept only when it is at most ``KEEP_BELOW`` of what the entry would otherwise be
  (plain zstd, or the raw bytes); reading one costs a second entry, so a small gain is not worth it.
  A delta at most ``CLEARLY`` of its base's stored entry, scaled to the new chunk's size, is
  kept without computing plain zstd.
- The record names the base (digest and where it is) next to the chunk and lists the base's pack
  in ``packs``, so gc keeps it, transfer copies it and fsck checks it with the rest.
- The chunk index has no field for a base, so deltas are not in it: they are found again only
  through the previous version of the same path (``seed``), which is what re-adding a file, or
  adding an unchanged one that the stat cache could not vouch for, needs.

Whether a chunk becomes a delta depends only on its bytes, the previous version and the chunks the
same lane handled before it in this add, like compression (``packs.EntryCompressor``), so the
same tree added twice gets the same version id.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from itertools import accumulate
from typing import Any

import zstandard

from parity.core.errors import CorruptObject, NotFoundError
from parity.data.manifest import Chunk, chunk_of
from parity.data.packs import EntryCompressor, PackReader
from parity.store.objects.store import ObjectStore

DELTA_LEVEL = 3
# A delta is kept when it is at most this fraction of the entry it would replace.
KEEP_BELOW = 3 / 4
# A delta at most this fraction of its base's stored entry (scaled to the new chunk's size) is kept
# without compressing the chunk the plain way to compare (a second zstd pass over every new chunk).
CLEARLY = 1 / 4
# After this many chunks in a row whose delta was not kept, only every SKIP_EVERY-th is tried
# (until one is kept again): a rewritten file costs a few hundred attempts, not one a chunk.
GIVE_UP_AFTER = 16
SKIP_EVERY = 16


class DeltaBases:
    """The previous version of one file, as bases for the next version's new chunks."""

    def __init__(self, chunks: Sequence[Chunk]) -> None:
        self.chunks = tuple(chunks)
        self._ends = list(accumulate(c.size for c in self.chunks))
        self._bases = [c if c.base is None else c.base for c in self.chunks]

    @classmethod
    def of_entry(cls, entry: Mapping[str, Any], packs: Sequence[str]) -> DeltaBases | None:
        """From a previous record's file entry; None when it is damaged or has no chunks."""
        try:
            chunks = [chunk_of(row, packs) for row in entry["chunks"]]
        except (KeyError, IndexError, TypeError, ValueError):
            return None  # the add then stores without deltas: nothing is read from it
        return cls(chunks) if chunks else None

    def base_for(self, offset: int, size: int) -> Chunk:
        """The whole entry to delta a new chunk at ``offset`` against: the previous version's
        chunk covering its middle (the last one past the end), or that chunk's base."""
        index = bisect_right(self._ends, offset + size // 2)
        return self._bases[min(index, len(self._bases) - 1)]

    def deltas(self) -> dict[str, Chunk]:
        """The previous version's delta chunks, by digest: stored, but not in the chunk index."""
        return {c.digest: c for c in self.chunks if c.base is not None}


class DeltaEncoder:
    """Encodes one lane's new chunks of one file: as a delta when that is clearly smaller, else
    as ``compressor`` would (None: raw). Reads bases through its own ``PackReader`` (verified).
    Not thread-safe: one per lane and file, used on the lane's copier thread only."""

    def __init__(
        self, store: ObjectStore, bases: DeltaBases, compressor: EntryCompressor | None
    ) -> None:
        self._bases = bases
        self._compressor = compressor
        self._reader = PackReader(store)
        self._misses = 0
        self.kept = 0

    def encode(self, data: bytes | memoryview, offset: int) -> tuple[bytes | None, Chunk | None]:
        """The stored form of the chunk at ``offset``: (its bytes or None for raw, its base)."""
        misses = self._misses
        if misses >= GIVE_UP_AFTER and misses % SKIP_EVERY:
            self._misses = misses + 1
            return self._plain(data), None
        base = self._bases.base_for(offset, len(data))
        try:
            dictionary = self._reader.base_dictionary(base)
        except (CorruptObject, NotFoundError):
            # Never a delta against what cannot be read back: stored whole, fsck says why.
            self._misses = misses + 1
            return self._plain(data), None
        delta: bytes = zstandard.ZstdCompressor(level=DELTA_LEVEL, dict_data=dictionary).compress(
            data
        )
        if len(delta) * base.size <= base.stored * len(data) * CLEARLY:
            # The base's own entry says what plain zstd gives here (the same place a few edits
            # apart), per byte: scaled to this chunk's size (a 2 KiB tail against a 64 KiB base
            # must beat 1/4 of 2 KiB's worth, not of the whole base's), a delta this much
            # smaller is kept without compressing the chunk again.
            self._misses = 0
            self.kept += 1
            return delta, base
        packed = self._plain(data)
        if len(delta) <= (len(data) if packed is None else len(packed)) * KEEP_BELOW:
            self._misses = 0
            self.kept += 1
            return delta, base
        self._misses = misses + 1
        return packed, None

    def _plain(self, data: bytes | memoryview) -> bytes | None:
        return None if self._compressor is None else self._compressor.compress(data)

    def close(self) -> None:
        self._reader.close()
