"""The chunk-index routes: what they refuse (packs the store lacks, callers below their role,
bodies that are not digests), beyond the index contract tests/data/test_index.py runs on them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.core.errors import AccessDenied, NotFoundError, UsageError
from parity.core.ids import digest_bytes
from parity.data.index_http import HttpChunkIndex
from parity.data.manifest import Chunk
from parity.store.http.client import ServerClient
from parity.store.http.objects import HttpObjectBackend
from parity.store.objects import ObjectStore
from tests.server.live import TeamServer, team_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TeamServer]:
    with team_server(tmp_path / "served") as running:
        yield running


def test_chunks_in_packs_the_store_lacks_are_refused(server: TeamServer, tmp_path: Path) -> None:
    with ServerClient(server.url, server.writer) as client:
        index = HttpChunkIndex(client)
        objects = ObjectStore(HttpObjectBackend(client, tmp_path / "scratch"))
        pack = objects.put_bytes(b"chunk one" + b"chunk two")
        absent = digest_bytes(b"a pack nobody stored")
        one, two = digest_bytes(b"chunk one"), digest_bytes(b"chunk two")
        with pytest.raises(UsageError, match="1 of the packs named are not in the object store"):
            index.add([Chunk(one, absent, 0, 9, 9)], [absent], 1)
        assert index.known_packs() == set()
        index.add([Chunk(one, pack, 0, 9, 9), Chunk(two, pack, 9, 9, 9)], [pack], 1)
        assert index.known_packs() == {pack}
        assert index.locate([one, two, absent]) == {
            one: Chunk(one, pack, 0, 9, 9),
            two: Chunk(two, pack, 9, 9, 9),
        }
        with pytest.raises(NotFoundError, match="data version"):
            index.index_version(absent)


def test_forgetting_is_for_admins(server: TeamServer) -> None:
    pack = digest_bytes(b"pack")
    with (
        ServerClient(server.url, server.writer) as writer,
        pytest.raises(AccessDenied, match="needs the admin role"),
    ):
        HttpChunkIndex(writer).forget([pack], [])
    with ServerClient(server.url, server.reader) as reader:
        with pytest.raises(AccessDenied, match="needs the writer role"):
            HttpChunkIndex(reader).add([], [pack], 1)
        assert HttpChunkIndex(reader).locate([]) == {}
    with ServerClient(server.url, server.admin) as admin:
        HttpChunkIndex(admin).forget([pack], [pack])


def test_bodies_that_are_not_digests_are_refused(server: TeamServer) -> None:
    with ServerClient(server.url, server.admin) as client:
        for path, body in (
            ("/data/chunks/locate", {"digests": ["../etc/passwd"]}),
            ("/data/forget", {"packs": ["/etc/passwd"], "versions": []}),
            ("/data/chunks", {"packs": [], "chunks": [{"digest": "x"}], "created_ms": 1}),
            ("/data/chunks", {"packs": [], "chunks": [], "created_ms": -1}),
        ):
            with pytest.raises(UsageError, match="invalid request"):
                client.post(path, body)
