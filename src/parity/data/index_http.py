"""The chunk index of a Parity server, over HTTP: ``ChunkIndexPort`` for a workspace in team
mode. The server answers from its metadata store and checks packs against its object store, the
store this workspace's objects go to, so its answers mean here what they mean there."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from parity.data.manifest import Chunk
from parity.store.http.client import segment

if TYPE_CHECKING:
    from parity.store.http.client import ServerClient

# Digests asked about, or chunks sent, per request: a few MB of JSON at most.
LOCATE_BATCH = 10_000
ADD_BATCH = 10_000
FORGET_BATCH = 50_000


def _chunk(row: dict[str, Any]) -> Chunk:
    return Chunk(
        str(row["digest"]),
        str(row["pack"]),
        int(row["offset"]),
        int(row["stored"]),
        int(row["size"]),
    )


class HttpChunkIndex:
    def __init__(self, client: ServerClient) -> None:
        self.client = client

    def locate(self, digests: Iterable[str]) -> dict[str, Chunk]:
        wanted = list(dict.fromkeys(digests))
        found: dict[str, Chunk] = {}
        for start in range(0, len(wanted), LOCATE_BATCH):
            answer = self.client.post(
                "/data/chunks/locate", {"digests": wanted[start : start + LOCATE_BATCH]}, retry=True
            )
            found.update((row["digest"], _chunk(row)) for row in answer["chunks"])
        return found

    def add(self, chunks: Iterable[Chunk], packs: Sequence[str], created_ms: int) -> None:
        rows = [
            {
                "digest": c.digest,
                "pack": c.pack,
                "offset": c.offset,
                "stored": c.stored,
                "size": c.size,
            }
            for c in chunks
            if c.base is None  # a delta cannot be a row (``delta``)
        ]
        pack_list = list(packs)
        # In batches, packs first: a later batch that fails leaves hints that are true (their
        # packs exist), and indexing skips known rows, so a retried batch changes nothing.
        batches = max(1, -(-len(rows) // ADD_BATCH), -(-len(pack_list) // ADD_BATCH))
        for n in range(batches):
            window = slice(n * ADD_BATCH, (n + 1) * ADD_BATCH)
            body = {"packs": pack_list[window], "chunks": rows[window], "created_ms": created_ms}
            self.client.post("/data/chunks", body, retry=True)

    def known_packs(self) -> set[str]:
        return set(self.client.get("/data/packs")["packs"])

    def forget(self, packs: Iterable[str], versions: Iterable[str]) -> None:
        pack_list, version_list = list(packs), list(versions)
        batches = max(1, -(-len(pack_list) // FORGET_BATCH), -(-len(version_list) // FORGET_BATCH))
        for n in range(batches):
            window = slice(n * FORGET_BATCH, (n + 1) * FORGET_BATCH)
            body = {"packs": pack_list[window], "versions": version_list[window]}
            self.client.post("/data/forget", body, retry=True)

    def index_version(self, data_version_id: str, created_ms: int = 0) -> int:
        answer = self.client.post(
            f"/data/versions/{segment(data_version_id)}/index",
            {"created_ms": created_ms},
            retry=True,
        )
        return int(answer["chunks"])
