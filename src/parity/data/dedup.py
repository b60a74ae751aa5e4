"""Which chunks an add stores: each new chunk once per add, none that the store already had.

An add hands chunks to more than one pack writer at once (a large file's two halves go to two
writers while it is cut, see ``large_file``). If a writer skipped a chunk because another writer
had just taken it, the packs, and so the data version id, would depend on how the threads
interleaved. So a writer dedups only against knowledge that is fixed while it works:

- ``located``: chunks stored before this add, as the chunk index knows them (it is asked only
  about digests nothing else here knows, once per batch; the previous version's chunks are
  indexed like any other's, and an add that copies 20,000 unchanged entries asks about the few
  new digests rather than listing every chunk those entries name);
- what any writer took from the files this add has finished (grows only between files);
- what this writer itself took from the file in progress (its claims), never another writer's;
- the delta chunks of the previous version of a large file (``seed``, before the file is cut):
  the index holds only chunks stored whole (see ``delta``).

Two writers may therefore both store a chunk of one file; the add then names the first writer's
copy (``writers.PackLanes.close``).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from parity.data.manifest import Chunk

if TYPE_CHECKING:
    from parity.data.index_port import ChunkIndexPort


class ChunkDeduper:
    """Owns what counts as stored during one add. A writer is named by any hashable token
    (the add passes its ``Lane``); nothing else reads or changes these sets."""

    def __init__(self, index: ChunkIndexPort) -> None:
        self.index = index
        self.located: dict[str, Chunk] = {}  # stored before this add: where each chunk is
        self._finished: set[str] = set()  # taken by any writer from files already finished
        self._claims: dict[Hashable, set[str]] = {}  # by writer: taken from the file in progress

    def locate(self, digests: Iterable[str]) -> dict[str, Chunk]:
        """Ask the index where ``digests`` are stored; remember and return those it knows."""
        found = self.index.locate(digests)
        self.located.update(found)
        return found

    def seed(self, chunks: Mapping[str, Chunk]) -> None:
        """Count ``chunks`` (stored before this add, in packs that exist) as located."""
        for digest, chunk in chunks.items():
            self.located.setdefault(digest, chunk)

    def claim(self, writer: Hashable, digests: Sequence[str]) -> list[bool]:
        """For each of ``digests``, whether ``writer`` is to store it: true for the first
        occurrence of a digest that was not stored before this add, not taken from a finished
        file, and not claimed by ``writer`` already (it is then claimed)."""
        located, finished = self.located, self._finished
        claimed = self._claims.setdefault(writer, set())
        unknown = [
            d for d in digests if d not in claimed and d not in located and d not in finished
        ]
        if unknown:
            located.update(self.index.locate(unknown))
        fresh: list[bool] = []
        for digest in digests:
            new = digest not in claimed and digest not in located and digest not in finished
            if new:
                claimed.add(digest)
            fresh.append(new)
        return fresh

    def file_done(self) -> None:
        """The file in progress is stored: every writer's claims now count for all writers."""
        for claimed in self._claims.values():
            self._finished |= claimed
        self._claims.clear()
