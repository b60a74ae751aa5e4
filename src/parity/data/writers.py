"""The write step of an add: its pack writers ("lanes") and what each one stored.

The main lane takes small files and the first half of every large file; a large file chunked from
both ends gets a lane of its own for its second half (``large_file``), so two threads fill packs at
once. Each lane stores what it is handed in the order handed, which keeps its packs independent of
how the threads interleaved.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from parity.data.manifest import Chunk
from parity.data.packs import PackWriter, Placed
from parity.store.objects.store import ObjectStore


@dataclass(eq=False)  # compared by identity: a lane is also the deduper's name for its writer
class Lane:
    writer: PackWriter
    placed: dict[str, Placed] = field(default_factory=dict)  # digest → where, in the order stored


class PackLanes:
    def __init__(self, store: ObjectStore) -> None:
        self.store = store
        self.main = Lane(PackWriter(store))
        self._lanes = [self.main]

    def open(self) -> Lane:
        """A new lane, closed (or aborted) with the others."""
        lane = Lane(PackWriter(self.store))
        self._lanes.append(lane)
        return lane

    @property
    def bytes_written(self) -> int:
        return sum(lane.writer.bytes_written for lane in self._lanes)

    def close(self) -> tuple[list[Chunk], list[str]]:
        """Make every pack durable; return the chunks stored and the packs written. A chunk two
        lanes stored is named at the copy of the lane opened first (the main lane's for the two
        halves of one file); the other copy stays in its pack, unnamed."""
        packs_by_lane = [lane.writer.close() for lane in self._lanes]
        chunks: list[Chunk] = []
        named: set[str] = set()
        packs: list[str] = []
        for lane, lane_packs in zip(self._lanes, packs_by_lane, strict=True):
            for digest, p in lane.placed.items():
                if digest not in named:
                    named.add(digest)
                    pack = lane_packs[p.slot]
                    chunks.append(Chunk(digest, pack, p.offset, p.stored, p.size, p.base))
            packs += lane_packs
        return chunks, packs

    def abort(self) -> None:
        """Drop the packs being written (those already moved into place are left to gc)."""
        for lane in self._lanes:
            lane.writer.abort()
