"""The chunk index on every metadata backend, and index_version for pulled versions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.api import data as data_api
from parity.core.roles import Role
from parity.data.index import ChunkIndex, index_version
from parity.data.pointer import read_pointer
from parity.data.versions import load_version
from parity.workspace import Workspace, open_workspace
from tests.server.live import team_server


@pytest.fixture(params=["sqlite", "postgres", "server"])
def workspace(
    request: pytest.FixtureRequest, workspace_dir: Path, tmp_path: Path
) -> Iterator[Workspace]:
    if request.param == "server":
        with team_server(tmp_path / "served") as server:
            ws = open_workspace(workspace_dir, environ=server.client_environment(Role.ADMIN))
            yield ws
            ws.close()
        return
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
    index = workspace.chunk_index
    found = index.locate([*digests, "0" * 64])
    assert set(found) == set(digests)
    assert found[digests[0]] == version.files[0].chunks[0]
    assert index.known_packs() == set(version.packs)

    workspace.objects.delete(version.packs[0])  # a team database outliving local objects
    assert workspace.chunk_index.locate(digests) == {}
    index.forget(version.packs, [added.data_version])
    assert index.known_packs() == set()
    assert added.data_version not in workspace.records.meta.record_ids("data")


def test_index_version_makes_a_fetched_version_dedup_here(workspace: Workspace) -> None:
    """As after a pull: the objects are here, the index rows are not."""
    data = workspace.root / "data"
    data.mkdir()
    (data / "a.bin").write_bytes(os.urandom(5000))
    added = data_api.add(data, workspace=workspace)
    version_id = read_pointer(workspace.root / "data.parity").data_version
    index = workspace.chunk_index
    index.forget(load_version(workspace.objects, version_id).packs, [version_id])
    assert workspace.records.meta.record_ids("data") == []
    assert index.index_version(version_id, 1) == 1
    assert workspace.records.meta.record_ids("data") == [added.data_version]
    digest = load_version(workspace.objects, version_id).files[0].digest
    assert list(workspace.chunk_index.locate([digest])) == [digest]


def test_index_version_indexes_with_the_metadata_store_s_own_index(workspace_dir: Path) -> None:
    """The function pull used before the port: the SQL index, given its two stores."""
    ws = open_workspace(workspace_dir, environ={})
    try:
        (ws.root / "one.bin").write_bytes(os.urandom(3000))
        added = data_api.add(ws.root / "one.bin", workspace=ws)
        index = ChunkIndex(ws.meta, ws.objects)
        index.forget(load_version(ws.objects, added.data_version).packs, [added.data_version])
        assert index_version(ws.meta, ws.objects, added.data_version, 5) == 1
        assert ws.meta.record_kind(added.data_version) == "data"
    finally:
        ws.close()
