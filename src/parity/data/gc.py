"""Garbage collection of data: delete data versions and packs nothing reaches any more.

Only what data versioning wrote is ever a candidate (data version records and packs); model
artifacts, environments, runs and every other object are left alone whatever happens. A pack is
deleted only when no live version has a chunk in it: packs are never rewritten, so a pack kept
alive by one chunk keeps its other entries too (the cost of never rewriting stored objects).
Temp files that killed adds and transfers left in the store's scratch folder go too: those no
running process holds (``store.objects.scratch``).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from parity.core.errors import NotFoundError
from parity.data.index_port import ChunkIndexPort
from parity.data.packs import PACK_HEADER
from parity.data.reachable import packs_of_version
from parity.store.objects import blob
from parity.store.objects.store import ObjectStore, object_key


@dataclass
class GcPlan:
    live_versions: set[str]
    delete_versions: list[str] = field(default_factory=list)
    delete_packs: list[str] = field(default_factory=list)
    kept_packs: int = 0
    bytes: int = 0
    # Temp files killed adds and transfers left in the scratch folder (no process holds them).
    leftovers: list[str] = field(default_factory=list)
    leftover_bytes: int = 0
    deleted: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "live_versions": len(self.live_versions),
            "delete_versions": sorted(self.delete_versions),
            "delete_packs": sorted(self.delete_packs),
            "kept_packs": self.kept_packs,
            "bytes": self.bytes,
            "leftover_temp_files": len(self.leftovers),
            "leftover_bytes": self.leftover_bytes,
            "deleted": self.deleted,
        }


def _size(store: ObjectStore, digest: str) -> int:
    local = store.backend.local_path(object_key(digest))
    try:
        return local.stat().st_size if local is not None else 0
    except FileNotFoundError:
        return 0


def _unlisted_packs(store: ObjectStore, known: set[str]) -> set[str]:
    """Packs no index row lists (a crash between writing a pack and indexing it), found by
    their header; only a local store is looked at this way (reading 11 bytes per object)."""
    found: set[str] = set()
    if store.backend.local_path(object_key("0" * 64)) is None:
        return found  # a remote store: not listed at all (a server lists for admins only)
    expected = blob.header(blob.CODEC_RAW) + PACK_HEADER
    for digest in store.digests():
        if digest in known:
            continue
        local = store.backend.local_path(object_key(digest))
        if local is None:
            continue
        try:
            with open(local, "rb") as handle:
                if handle.read(len(expected)) == expected:
                    found.add(digest)
        except FileNotFoundError:
            continue
    return found


def plan_gc(
    store: ObjectStore, index: ChunkIndexPort, live: Iterable[str], versions: Iterable[str]
) -> GcPlan:
    """What gc would delete, given the live data versions and every indexed one."""
    started = time.time_ns()
    live_set = set(live)
    plan = GcPlan(live_versions=live_set)
    live_packs: set[str] = set()
    for version in live_set:
        try:
            live_packs.update(packs_of_version(store, version))
        except NotFoundError:
            continue  # not here (never pulled): it keeps nothing here alive
    dead_versions = [v for v in set(versions) - live_set if store.has(v)]
    candidates = index.known_packs()
    for version in dead_versions:
        try:
            candidates.update(packs_of_version(store, version))
        except NotFoundError:
            continue
    candidates |= _unlisted_packs(store, candidates | live_packs | live_set)
    plan.delete_versions = sorted(dead_versions)
    plan.delete_packs = sorted(p for p in candidates - live_packs if store.has(p))
    plan.kept_packs = len(candidates & live_packs)
    plan.bytes = sum(_size(store, d) for d in (*plan.delete_versions, *plan.delete_packs))
    leftovers = store.scratch_leftovers(started)
    plan.leftovers = sorted(path.name for path in leftovers.files)
    plan.leftover_bytes = leftovers.bytes
    return plan


def run_gc(store: ObjectStore, index: ChunkIndexPort, plan: GcPlan) -> GcPlan:
    """Delete what ``plan`` lists: manifests first, so none ever names a deleted pack."""
    for version in plan.delete_versions:
        store.delete(version)
    for pack in plan.delete_packs:
        store.delete(pack)
    index.forget(plan.delete_packs, plan.delete_versions)
    # Swept again, not deleted from the list: each file's lock is checked as it goes.
    swept = store.sweep_scratch()
    plan.leftovers = sorted(path.name for path in swept.files)
    plan.leftover_bytes = swept.bytes
    plan.deleted = True
    return plan
