"""One contract for the object store, run over every backend: a local folder, S3 (moto) and a
Parity server's object routes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.core.errors import CorruptObject, NotFoundError, UsageError
from parity.core.ids import digest_bytes
from parity.core.records import StoredRecord
from parity.store.http.client import ServerClient
from parity.store.http.objects import HttpObjectBackend
from parity.store.objects import ObjectBackend, ObjectStore, open_object_store
from parity.store.objects.blob import CODEC_RAW, CODEC_ZSTD, HEADER_SIZE
from parity.store.objects.store import LARGE_FILE, object_key
from tests.server.live import team_server


@pytest.fixture(params=["local", "s3", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield open_object_store(str(tmp_path / "objects"))
    elif request.param == "s3":
        bucket_url = request.getfixturevalue("s3_bucket")
        endpoint = request.getfixturevalue("s3_endpoint")
        yield open_object_store(bucket_url, endpoint_url=endpoint)
    else:
        with (
            team_server(tmp_path / "served") as server,
            ServerClient(server.url, server.admin) as client,
        ):
            yield ObjectStore(HttpObjectBackend(client, tmp_path / "scratch"))


def stored_at(store: ObjectStore, tmp_path: Path) -> ObjectBackend:
    """Where the store's bytes really are: a server's own folder, not the routes in front."""
    if isinstance(store.backend, HttpObjectBackend):
        return open_object_store(str(tmp_path / "served" / ".parity" / "objects")).backend
    return store.backend


def test_put_and_get_bytes_round_trip(store: ObjectStore) -> None:
    content = b"hello parity\n" * 100
    digest = store.put_bytes(content)
    assert digest == digest_bytes(content)
    assert store.has(digest)
    assert store.get_bytes(digest) == content


def test_put_is_idempotent(store: ObjectStore) -> None:
    first = store.put_bytes(b"same")
    second = store.put_bytes(b"same")
    assert first == second
    assert list(store.digests()) == [first]


def test_compressible_content_is_stored_compressed_and_random_content_raw(
    store: ObjectStore,
) -> None:
    text = store.put_bytes(b"a" * 10_000)
    noise = store.put_bytes(os.urandom(10_000))
    text_blob = store.backend.read(object_key(text))
    noise_blob = store.backend.read(object_key(noise))
    assert text_blob[5] == CODEC_ZSTD
    assert len(text_blob) < 1000
    assert noise_blob[5] == CODEC_RAW
    assert len(noise_blob) == 10_000 + HEADER_SIZE


def test_empty_content(store: ObjectStore) -> None:
    digest = store.put_bytes(b"")
    assert store.get_bytes(digest) == b""


def test_large_file_streams_in_and_out(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "big.bin"
    block = os.urandom(1 << 20)
    source.write_bytes(block * (LARGE_FILE // len(block)) + b"tail" + b"z" * 1000)
    digest = store.put_file(source)
    assert digest == digest_bytes(source.read_bytes())
    target = tmp_path / "out" / "big.bin"
    store.get_to_file(digest, target)
    assert target.read_bytes() == source.read_bytes()


def test_small_file_put(store: ObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "small.txt"
    source.write_text("rows\n" * 10)
    digest = store.put_file(source)
    assert store.get_bytes(digest) == source.read_bytes()


def test_missing_object_is_not_found(store: ObjectStore, tmp_path: Path) -> None:
    absent = digest_bytes(b"never stored")
    assert not store.has(absent)
    with pytest.raises(NotFoundError, match=absent[:12]):
        store.get_bytes(absent)
    with pytest.raises(NotFoundError):
        store.get_to_file(absent, tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_missing_answers_in_bulk(store: ObjectStore) -> None:
    present = {store.put_bytes(f"object {i}".encode()) for i in range(20)}
    absent = {digest_bytes(f"absent {i}".encode()) for i in range(5)}
    assert store.missing(present | absent) == absent


def test_records_round_trip(store: ObjectStore) -> None:
    record = StoredRecord("env", 1, {"python": "3.11"})
    record_id = store.put_record(record)
    assert record_id == record.id
    assert store.get_record(record_id) == record


def test_delete(store: ObjectStore) -> None:
    digest = store.put_bytes(b"to delete")
    store.delete(digest)
    assert not store.has(digest)
    store.delete(digest)  # deleting twice is fine


def test_corrupt_object_is_refused_by_name(store: ObjectStore, tmp_path: Path) -> None:
    content = os.urandom(4096)
    digest = store.put_bytes(content)
    blob = bytearray(store.backend.read(object_key(digest)))
    blob[HEADER_SIZE + 100] ^= 0x01
    stored_at(store, tmp_path).write(object_key(digest), bytes(blob))
    with pytest.raises(CorruptObject, match=f"object {digest} is corrupt") as info:
        store.get_bytes(digest)
    assert info.value.digest == digest
    assert info.value.exit_code == 5
    with pytest.raises(CorruptObject):
        store.verify(digest)
    target = tmp_path / "restored.bin"
    with pytest.raises(CorruptObject):
        store.get_to_file(digest, target)
    assert not target.exists()


def test_not_a_digest_is_usage(store: ObjectStore) -> None:
    with pytest.raises(UsageError):
        store.get_bytes("abc")


def test_stream_yields_the_content_bounded_and_verified(store: ObjectStore, tmp_path: Path) -> None:
    content = b"a line of a log\n" * 200_000  # several blocks, stored zstd-framed
    digest = store.put_bytes(content)
    assert b"".join(store.stream(digest, len(content))) == content
    with pytest.raises(CorruptObject, match="more than the 10 bytes recorded"):
        b"".join(store.stream(digest, 10))
    with pytest.raises(NotFoundError):
        b"".join(store.stream(digest_bytes(b"never stored")))
    other = store.put_bytes(b"other content entirely")
    stored_at(store, tmp_path).write(object_key(other), store.backend.read(object_key(digest)))
    with pytest.raises(CorruptObject):
        b"".join(store.stream(other))
