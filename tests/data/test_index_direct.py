"""The stdlib sqlite3 index (``data.index_direct``) answers as the metadata store's does: the
same scenarios over both, on the same embedded database."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.api import data as data_api
from parity.core.errors import DatabaseBusy
from parity.data.index import ChunkIndex
from parity.data.index_direct import DirectDataIndex, open_direct_index
from parity.data.index_port import ChunkIndexPort
from parity.data.manifest import Chunk
from parity.data.versions import load_version
from parity.workspace import DATABASE_FILE, Workspace, open_workspace


@pytest.fixture
def workspace(workspace_dir: Path) -> Iterator[Workspace]:
    ws = open_workspace(workspace_dir, environ={})
    yield ws
    ws.close()


@pytest.fixture(params=["direct", "store"])
def index(request: pytest.FixtureRequest, workspace: Workspace) -> Iterator[ChunkIndexPort]:
    if request.param == "store":
        yield ChunkIndex(workspace.meta, workspace.objects)
        return
    found = open_direct_index(workspace.parity_dir / DATABASE_FILE, workspace.objects)
    assert found is not None
    yield found
    found.close()


def _added(workspace: Workspace, count: int = 12) -> str:
    data = workspace.root / "data"
    data.mkdir()
    for number in range(count):
        (data / f"f{number}.bin").write_bytes(os.urandom(2000))
    return data_api.add(data, workspace=workspace).data_version


def test_chunks_are_located_only_in_packs_that_exist(
    workspace: Workspace, index: ChunkIndexPort
) -> None:
    version_id = _added(workspace)
    version = load_version(workspace.objects, version_id)
    digests = [f.digest for f in version.files]
    found = index.locate([*digests, "0" * 64])
    assert set(found) == set(digests)
    assert found[digests[0]] == version.files[0].chunks[0]
    assert index.known_packs() == set(version.packs)
    workspace.objects.delete(version.packs[0])
    fresh = type(index)(*_arguments(index))  # a new one: the last remembers present packs
    assert fresh.locate(digests) == {}
    index.forget(version.packs, [version_id])
    assert index.known_packs() == set()
    assert version_id not in workspace.records.meta.record_ids("data")


def _arguments(index: ChunkIndexPort) -> tuple[object, ...]:
    if isinstance(index, DirectDataIndex):
        return (index._db, index.database, index.store)  # the same connection
    assert isinstance(index, ChunkIndex)
    return (index.meta, index.store)


def test_added_chunks_and_packs_are_found_and_duplicates_skipped(
    workspace: Workspace, index: ChunkIndexPort
) -> None:
    version_id = _added(workspace, 2)
    pack = load_version(workspace.objects, version_id).packs[0]
    chunk = Chunk("a" * 64, pack, 0, 10, 20)
    index.add([chunk], [pack], 5)
    index.add([Chunk("a" * 64, pack, 99, 10, 20)], [pack], 6)  # known digest: kept as it was
    assert index.locate(["a" * 64]) == {"a" * 64: chunk}
    assert pack in index.known_packs()


def test_index_version_indexes_the_record_and_its_chunks(
    workspace: Workspace, index: ChunkIndexPort
) -> None:
    version_id = _added(workspace, 3)
    version = load_version(workspace.objects, version_id)
    index.forget(version.packs, [version_id])
    assert workspace.records.meta.record_ids("data") == []
    assert index.index_version(version_id, 1) == 3
    assert workspace.records.meta.record_ids("data") == [version_id]
    assert set(index.locate([f.digest for f in version.files])) == {f.digest for f in version.files}


def test_the_direct_index_holds_the_metadata_store_s_add_lock(workspace: Workspace) -> None:
    direct = open_direct_index(workspace.parity_dir / DATABASE_FILE, workspace.objects)
    assert direct is not None
    order: list[str] = []

    def other() -> None:
        with workspace.meta.exclusive("data-add"):
            order.append("other")

    with direct.exclusive("data-add"):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join(0.3)
        order.append("direct")
    thread.join()
    direct.close()
    assert order == ["direct", "other"]


def test_a_held_database_is_reported_busy(workspace: Workspace) -> None:
    path = workspace.parity_dir / DATABASE_FILE
    direct = open_direct_index(path, workspace.objects)
    assert direct is not None
    direct._db.execute("PRAGMA busy_timeout=50")  # not a minute, in a test
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy, match="busy with other writers"):
            direct.index_records([("b" * 64, "data", 1, None)])
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    direct.index_records([("b" * 64, "data", 1, None)])  # rolled back, then free again
    assert "b" * 64 in workspace.records.meta.record_ids("data")
    direct.close()
