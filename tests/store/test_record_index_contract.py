"""One contract for the record index, over a SQLite file, the real PostgreSQL and a Parity
server's record routes (``HttpRecordIndex``): what ``RecordStore`` and data versioning ask."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from parity.core.errors import UsageError
from parity.core.ids import digest_bytes
from parity.store.http import records as http_records
from parity.store.http.client import ServerClient
from parity.store.http.objects import HttpObjectBackend
from parity.store.http.records import HttpRecordIndex
from parity.store.meta import open_metadata_store
from parity.store.meta.migrations import HEADS
from parity.store.objects import ObjectStore, open_object_store
from parity.store.records import RecordStore
from parity.store.records_index import RecordIndex
from tests.server.live import team_server


@dataclass
class Backing:
    index: RecordIndex
    objects: ObjectStore  # where the records' bytes go (a server indexes only what it holds)
    server: str | None = None  # the server's URL and a writer's token, for the server case
    token: str | None = None


@pytest.fixture(params=["sqlite", "postgres", "server"])
def backing(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backing]:
    if request.param == "server":
        with (
            team_server(tmp_path / "served") as server,
            ServerClient(server.url, server.writer) as client,
        ):
            objects = ObjectStore(HttpObjectBackend(client, tmp_path / "scratch"))
            yield Backing(HttpRecordIndex(client), objects, server.url, server.writer)
        return
    url = (
        request.getfixturevalue("postgres_url")
        if request.param == "postgres"
        else f"sqlite:///{tmp_path / 'parity.db'}"
    )
    meta = open_metadata_store(url)
    yield Backing(meta, open_object_store(str(tmp_path / "objects")))
    meta.close()


def stored(objects: ObjectStore, prefix: str, n: int = 0) -> str:
    """The id of a stored object whose digest starts with ``prefix`` (the ``n``-th found)."""
    found = 0
    for i in range(1_000_000):
        content = f"{prefix}:{i}".encode()
        if digest_bytes(content).startswith(prefix):
            if found == n:
                return objects.put_bytes(content)
            found += 1
    raise AssertionError("unreachable")


def test_record_index(backing: Backing) -> None:
    index, objects = backing.index, backing.objects
    first, second = sorted([stored(objects, "ab", 0), stored(objects, "ab", 1)])
    other = stored(objects, "cd")
    index.index_records([(first, "env", 10, "laptop"), (second, "data", 11, None)])
    index.index_records([(first, "env", 99, "again")])  # duplicates are ignored
    index.index_records([(other, "env", 12, None)])
    assert index.record_ids(prefix="ab") == [first, second]
    assert index.record_ids(kind="env") == sorted([first, other])
    assert index.record_ids() == sorted([first, second, other])
    assert index.record_kind(second) == "data"
    assert index.record_kind("ef" * 32) is None
    assert index.count_records() == {"env": 2, "data": 1}
    assert index.index_records([]) is None


def test_prefix_is_not_a_pattern(backing: Backing) -> None:
    record = stored(backing.objects, "ab")
    backing.index.index_records([(record, "env", 10, None)])
    assert backing.index.record_ids(prefix="a") == [record]
    assert backing.index.record_ids(prefix="a%") == []
    assert backing.index.record_ids(prefix="a_") == []
    assert backing.index.record_kind("a%") is None


def test_labelled_records_are_oldest_first(backing: Backing) -> None:
    ids = [stored(backing.objects, "", n) for n in range(4)]
    backing.index.index_records(
        [
            (ids[0], "validation", 30, "v1"),
            (ids[1], "validation", 10, "v1"),
            (ids[2], "validation", 20, "v2"),
            (ids[3], "profile", 5, "v1"),
        ]
    )
    assert backing.index.labelled_records("validation", "v1") == [ids[1], ids[0]]
    assert backing.index.labelled_records("validation", "none") == []


def test_listings_page_through_everything(
    backing: Backing, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_records, "ID_PAGE", 3)
    monkeypatch.setattr(http_records, "INDEX_BATCH", 4)
    ids = sorted(stored(backing.objects, "", n) for n in range(10))
    backing.index.index_records([(i, "env", n, None) for n, i in enumerate(ids)])
    assert backing.index.record_ids() == ids
    assert backing.index.record_ids("env") == ids


def test_record_store_puts_resolves_and_checks_kinds(backing: Backing) -> None:
    from parity.core.records import StoredRecord

    records = RecordStore(backing.objects, backing.index)
    record_id = records.put(StoredRecord("env", 1, {"python": "3.11"}), 7, label="laptop")
    assert records.resolve(record_id[:8]) == record_id
    assert records.resolve(record_id, kind="env") == record_id
    assert records.get(record_id, "env").body == {"python": "3.11"}


def test_schema_and_url(backing: Backing) -> None:
    assert backing.index.schema_revisions() == sorted(HEADS)
    assert "password" not in backing.index.url
    assert backing.index.referenced_data_versions() == {}


def test_exclusive_shuts_out_a_second_holder(backing: Backing) -> None:
    order: list[str] = []
    entered = threading.Event()

    def second() -> None:
        entered.wait()
        with backing.index.exclusive("contract-lock"):
            order.append("second in")

    thread = threading.Thread(target=second)
    thread.start()
    with backing.index.exclusive("contract-lock"):
        entered.set()
        time.sleep(0.5)
        order.append("first out")
    thread.join(timeout=30)
    assert order == ["first out", "second in"]
    with backing.index.exclusive("contract-lock"):  # released: taken again at once
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Backing]:
    """The server case alone, for what only a server's index does."""
    with (
        team_server(tmp_path / "served") as server,
        ServerClient(server.url, server.writer) as client,
    ):
        objects = ObjectStore(HttpObjectBackend(client, tmp_path / "scratch"))
        yield Backing(HttpRecordIndex(client), objects, server.url, server.writer)


def test_the_server_indexes_only_records_it_holds(served: Backing) -> None:
    absent = digest_bytes(b"never stored")
    present = served.objects.put_bytes(b"stored")
    with pytest.raises(UsageError, match="1 of these records are not in the object store"):
        served.index.index_records([(present, "env", 1, None), (absent, "env", 1, None)])
    assert served.index.record_ids() == []


_HOLD = """
import sys, time
from parity.store.http.client import ServerClient
from parity.store.http.records import HttpRecordIndex
index = HttpRecordIndex(ServerClient(sys.argv[1], sys.argv[2]), lease_s=2.0)
with index.exclusive("contract-lock"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_killed_holder_s_lease_expires(served: Backing) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(served.server), str(served.token)],
        stdout=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("PARITY_")},
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        assert isinstance(served.index, HttpRecordIndex)
        waiter = HttpRecordIndex(served.index.client, lease_s=2.0)
        took: list[float] = []

        def wait_for_it() -> None:
            started = time.monotonic()
            with waiter.exclusive("contract-lock"):
                took.append(time.monotonic() - started)

        thread = threading.Thread(target=wait_for_it, daemon=True)
        thread.start()
        # The holder's heartbeat keeps its 2 s lease taken well beyond 2 s.
        thread.join(timeout=4)
        assert took == []
        holder.kill()
        holder.wait()
        thread.join(timeout=10)
        assert len(took) == 1  # the dead holder's lease ran out; the waiter took it
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
