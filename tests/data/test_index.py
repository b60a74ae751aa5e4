"""The chunk index on every metadata backend, and index_version for pulled versions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.api import data as data_api
from parity.data.index import ChunkIndex, index_version
from parity.data.pointer import read_pointer
from parity.data.versions import load_version
from parity.workspace import Workspace, open_workspace


@pytest.fixture(params=["sqlite", "postgres"])
def workspace(request: pytest.FixtureRequest, workspace_dir: Path) -> Iterator[Workspace]:
    environ = {}
    if request.param == "postgres":
        environ["PARITY_METADATA_URL"] = request.getfixturevalue("postgres_url")
    ws = open_workspace(workspace_dir, environ=environ)
    yield ws
    ws.close()


def test_chunks_are_found_again_and_only_in_packs_that_exist(workspace: Workspace) -> None:
    data = workspace.root / "data"
    data.mkdir()
    for index in range(30):
        (data / f"f{index}.bin").write_bytes(os.urandom(3000))
    added = data_api.add(data, workspace=workspace)
    version = load_version(workspace.objects, added.data_version)
    digests = [f.digest for f in version.files]
    index = ChunkIndex(workspace.meta, workspace.objects)
    found = index.locate([*digests, "0" * 64])
    assert set(found) == set(digests)
    assert found[digests[0]] == version.files[0].chunks[0]
    assert index.known_packs() == set(version.packs)

    workspace.objects.delete(version.packs[0])  # a team database outliving local objects
    assert ChunkIndex(workspace.meta, workspace.objects).locate(digests) == {}
    index.forget(version.packs, [added.data_version])
    assert index.known_packs() == set()
    assert added.data_version not in workspace.meta.record_ids("data")


def test_index_version_makes_a_fetched_version_dedup_here(workspace: Workspace) -> None:
    """As after a pull: the objects are here, the index rows are not."""
    data = workspace.root / "data"
    data.mkdir()
    (data / "a.bin").write_bytes(os.urandom(5000))
    added = data_api.add(data, workspace=workspace)
    version_id = read_pointer(workspace.root / "data.parity").data_version
    index = ChunkIndex(workspace.meta, workspace.objects)
    index.forget(load_version(workspace.objects, version_id).packs, [version_id])
    assert workspace.meta.record_ids("data") == []
    assert index_version(workspace.meta, workspace.objects, version_id, 1) == 1
    assert workspace.meta.record_ids("data") == [added.data_version]
    digest = load_version(workspace.objects, version_id).files[0].digest
    assert list(ChunkIndex(workspace.meta, workspace.objects).locate([digest])) == [digest]
