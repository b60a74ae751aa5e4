"""What only the S3 backend promises: botocore's errors arrive as StorageError with a hint, and a
pack-sized object goes up in one PUT (a killed push leaves no multipart upload behind)."""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import pytest

from parity.core.errors import StorageError
from parity.core.ids import digest_bytes
from parity.store.objects import ObjectStore, open_object_store

DIGEST = digest_bytes(b"anything")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _operations(tmp_path: Path) -> dict[str, Callable[[ObjectStore], object]]:
    many = [digest_bytes(str(i).encode()) for i in range(40)]
    return {
        "read": lambda store: store.get_bytes(DIGEST),
        "write": lambda store: store.put_bytes(b"anything"),
        "exists": lambda store: store.has(DIGEST),
        "list": lambda store: list(store.digests()),
        "bulk": lambda store: store.missing(many),
        "download": lambda store: store.get_to_file(DIGEST, tmp_path / "out"),
    }


# Not "exists" or "download": they start with HEAD, whose 404 has no body to tell a missing
# bucket from a missing key, so they answer "absent" / NotFoundError, as for a missing key.
@pytest.mark.parametrize("operation", ["read", "write", "list", "bulk"])
def test_no_such_bucket(operation: str, s3_bucket: str, s3_endpoint: str, tmp_path: Path) -> None:
    bucket = s3_bucket[len("s3://") :].split("/")[0]
    store = open_object_store(f"s3://{bucket}-absent/prefix", endpoint_url=s3_endpoint)
    with pytest.raises(StorageError) as info:
        _operations(tmp_path)[operation](store)
    assert f"bucket '{bucket}-absent' does not exist" in info.value.message
    assert info.value.hint == "create the bucket, or fix the URL with 'parity remote add'"
    assert info.value.__cause__ is not None
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("operation", ["read", "write", "exists", "list"])
def test_unreachable_endpoint(
    operation: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    store = open_object_store("s3://bucket/prefix", endpoint_url=endpoint)
    with pytest.raises(StorageError) as info:
        _operations(tmp_path)[operation](store)
    assert info.value.message.endswith(f"{endpoint} does not answer")
    assert info.value.hint == "check the endpoint URL and that the server is up"
    assert "\n" not in str(info.value)


def test_a_pack_sized_object_goes_up_in_one_put(
    s3_bucket: str, s3_endpoint: str, tmp_path: Path
) -> None:
    import os

    import boto3

    store = open_object_store(s3_bucket, endpoint_url=s3_endpoint)
    source = tmp_path / "pack.bin"
    source.write_bytes(os.urandom(40 << 20))  # above boto3's 8 MiB multipart default
    digest = store.put_file(source)
    bucket, _, prefix = s3_bucket[len("s3://") :].partition("/")
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1")
    head = client.head_object(Bucket=bucket, Key=f"{prefix}/{digest[:2]}/{digest[2:]}")
    assert "-" not in head["ETag"]  # a multipart upload's ETag ends in -PARTS
    assert client.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
