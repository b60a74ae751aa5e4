"""The chunk index port: what data versioning asks of the index of stored chunks and packs.

``parity.data.index.ChunkIndex`` answers from the metadata store (SQL); ``parity.data.index_http
.HttpChunkIndex`` asks a Parity server, which answers from its own. Adding, pulling and gc take
either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol

from parity.data.manifest import Chunk


class ChunkIndexPort(Protocol):
    def locate(self, digests: Iterable[str]) -> dict[str, Chunk]:
        """Where the known ones among ``digests`` are stored (in packs that exist)."""
        ...

    def add(self, chunks: Iterable[Chunk], packs: Sequence[str], created_ms: int) -> None:
        """Remember new packs and the chunks in them."""
        ...

    def known_packs(self) -> set[str]: ...

    def forget(self, packs: Iterable[str], versions: Iterable[str]) -> None:
        """Drop deleted packs and data versions from the index (gc)."""
        ...

    def index_version(self, data_version_id: str, created_ms: int = 0) -> int:
        """Index a data version whose packs and manifest are already stored (after a pull):
        its record and its chunks. Returns the number of chunks indexed."""
        ...
