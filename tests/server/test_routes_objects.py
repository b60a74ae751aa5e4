"""The object routes as an attacker and a careless client meet them: uploads are re-hashed and
refused on mismatch, digests are the only names, and each route keeps to its role."""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

from parity.core.errors import AccessDenied, NotFoundError, UsageError
from parity.core.ids import digest_bytes
from parity.store.http import objects as http_objects
from parity.store.http.client import ServerClient
from parity.store.http.objects import HttpObjectBackend, digest_of
from parity.store.objects import ObjectStore, blob
from parity.store.objects.store import object_key
from tests.server.live import TeamServer, team_server

_CLIENTS: list[ServerClient] = []


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TeamServer]:
    with team_server(tmp_path / "served") as running:
        try:
            yield running
        finally:
            while _CLIENTS:
                _CLIENTS.pop().close()


def served_files(tmp_path: Path) -> dict[str, bytes]:
    """Every file of the served workspace's object folder, scratch included, with its bytes."""
    root = tmp_path / "served" / ".parity" / "objects"
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def store_of(server: TeamServer, token: str, tmp_path: Path) -> ObjectStore:
    """An object store over the server's routes with ``token`` (closed with the server)."""
    client = ServerClient(server.url, token)
    _CLIENTS.append(client)
    return ObjectStore(HttpObjectBackend(client, tmp_path / "scratch"))


def put(server: TeamServer, digest: str, body: bytes, token: str | None = None) -> httpx.Response:
    return httpx.put(
        f"{server.url}/api/v1/objects/{digest}",
        content=body,
        headers={
            "Authorization": f"Bearer {token or server.writer}",
            "Content-Type": "application/octet-stream",
        },
    )


def test_an_upload_whose_content_is_not_its_digest_is_refused_and_nothing_is_stored(
    server: TeamServer, tmp_path: Path
) -> None:
    wanted = digest_bytes(b"what the digest names")
    before = served_files(tmp_path)
    for body in (
        blob.encode(b"other bytes entirely"),  # a valid blob of other content
        blob.encode(b"what the digest names")[:-1],  # truncated
        b"what the digest names",  # not encoded: no header
        b"",
    ):
        answer = put(server, wanted, body)
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == 2
        assert "refused the upload of object" in answer.json()["error"]
    assert served_files(tmp_path) == before  # no object, and no temp file left behind
    assert not store_of(server, server.reader, tmp_path).has(wanted)


def test_a_good_upload_is_stored_once_and_read_back_verified(
    server: TeamServer, tmp_path: Path
) -> None:
    content = os.urandom(5000)
    digest = digest_bytes(content)
    answer = put(server, digest, blob.encode(content))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"digest": digest, "size": len(blob.encode(content))}
    got = httpx.get(
        f"{server.url}/api/v1/objects/{digest}",
        headers={"Authorization": f"Bearer {server.reader}"},
    )
    assert got.headers["content-type"] == "application/octet-stream"
    assert int(got.headers["content-length"]) == len(got.content)
    assert blob.decode(digest, got.content) == content
    assert served_files(tmp_path)[object_key(digest)] == got.content


def test_each_route_keeps_to_its_role(server: TeamServer, tmp_path: Path) -> None:
    digest = digest_bytes(b"x")
    reader = store_of(server, server.reader, tmp_path)
    writer = store_of(server, server.writer, tmp_path)
    with pytest.raises(AccessDenied, match="needs the writer role"):
        reader.put_bytes(b"x")
    assert writer.put_bytes(b"x") == digest
    assert reader.get_bytes(digest) == b"x"
    with pytest.raises(AccessDenied, match="needs the admin role"):
        writer.delete(digest)
    with pytest.raises(AccessDenied, match="needs the admin role"):
        list(writer.digests())
    anonymous = httpx.get(f"{server.url}/api/v1/objects/{digest}")
    assert anonymous.status_code == 401
    admin = store_of(server, server.admin, tmp_path)
    assert list(admin.digests()) == [digest]
    admin.delete(digest)
    admin.delete(digest)  # twice is fine
    assert not reader.has(digest)
    with pytest.raises(NotFoundError, match=digest[:12]):
        reader.get_bytes(digest)


def test_listing_pages_through_every_object_in_order(
    server: TeamServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http_objects, "LIST_PAGE", 3)
    monkeypatch.setattr(http_objects, "HAS_BATCH", 4)
    admin = store_of(server, server.admin, tmp_path)
    digests = sorted(admin.put_bytes(f"object {i}".encode()) for i in range(10))
    assert list(admin.digests()) == digests
    absent = {digest_bytes(f"absent {i}".encode()) for i in range(3)}
    assert admin.missing([*digests, *absent]) == absent


def test_the_client_sends_only_digests() -> None:
    for key in ("../../etc/passwd", "ab/../cd", "AB/" + "0" * 62, "ab" + "0" * 62, "/ab/cd"):
        with pytest.raises(UsageError, match="not an object key"):
            digest_of(key)


_PAYLOADS = (
    "..",
    "../",
    "../../../../etc/passwd",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "%2e%2e",
    "..%2f..%2fetc%2fpasswd",
    "%2fetc%2fpasswd",
    "/etc/passwd",
    "file:%2f%2f%2fetc%2fpasswd",
    "file:///etc/passwd",
    "s3:%2f%2fother-bucket%2fkey",
    "s3://other-bucket/key",
    "%00",
    "a" * 63 + "%00",
    "ab%2f" + "0" * 62,
    "ab/" + "0" * 62,
    "AB" + "0" * 62,
    "tmp",
    "..%5c..%5cetc%5cpasswd",
)


def _raw(server: TeamServer, method: str, path: str, token: str, body: bytes | None) -> int:
    """Send ``path`` as it is: no client normalises the dots or decodes the escapes."""
    address = urlparse(server.url)
    connection = http.client.HTTPConnection(str(address.hostname), address.port, timeout=10)
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = (
            "application/octet-stream" if method == "PUT" else "application/json"
        )
    try:
        connection.request(method, path, body=body, headers=headers)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("method", "template", "body"),
    [
        ("GET", "/api/v1/objects/{}", None),
        ("PUT", "/api/v1/objects/{}", blob.encode(b"payload")),
        ("DELETE", "/api/v1/objects/{}", None),
        ("GET", "/api/v1/records/{}/kind", None),
        ("POST", "/api/v1/data/versions/{}/index", b"{}"),
        ("POST", "/api/v1/leases/{}", b'{"holder": "' + b"0" * 32 + b'", "seconds": 5}'),
    ],
)
def test_traversal_payloads_get_4xx_and_touch_nothing(
    server: TeamServer, tmp_path: Path, method: str, template: str, body: bytes | None
) -> None:
    outside = tmp_path / "served" / "outside.txt"
    outside.write_text("keep me\n")
    before = served_files(tmp_path)
    for payload in _PAYLOADS:
        if template.startswith("/api/v1/leases/") and payload == "tmp":
            continue  # a lease name is a row's key, never a path: "tmp" is a fine name there
        status = _raw(server, method, template.format(payload), server.admin, body)
        assert 400 <= status < 500, (payload, status)
    assert served_files(tmp_path) == before
    assert outside.read_text() == "keep me\n"


def test_bodies_that_are_not_digest_lists_are_refused(server: TeamServer) -> None:
    headers = {"Authorization": f"Bearer {server.reader}"}
    for body in (
        {"digests": ["../../etc/passwd"]},
        {"digests": ["0" * 63]},
        {"digests": ["0" * 64] * 10_001},
        {"digests": "0" * 64},
        {},
    ):
        answer = httpx.post(f"{server.url}/api/v1/objects/has", json=body, headers=headers)
        assert answer.status_code == 422, body
        assert answer.json()["code"] == 2
    listing = httpx.get(
        f"{server.url}/api/v1/objects",
        params={"after": "../"},
        headers={"Authorization": f"Bearer {server.admin}"},
    )
    assert listing.status_code == 422


def test_the_description_names_the_byte_bodies(server: TeamServer) -> None:
    paths = httpx.get(f"{server.url}/api/v1/openapi.json").json()["paths"]
    operations = paths["/api/v1/objects/{digest}"]
    assert list(operations["get"]["responses"]["200"]["content"]) == ["application/octet-stream"]
    assert list(operations["put"]["requestBody"]["content"]) == ["application/octet-stream"]
    assert operations["put"]["x-parity-role"] == "writer"
    assert operations["delete"]["x-parity-role"] == "admin"
    assert paths["/api/v1/objects"]["get"]["x-parity-role"] == "admin"
    digest = operations["get"]["parameters"][0]
    assert digest["schema"]["pattern"] == "^[0-9a-f]{64}$"


def test_an_upload_whose_content_outgrows_the_limit_is_refused(tmp_path: Path) -> None:
    """A few hundred bytes of zstd within the body limit must not decode to any size at all."""
    import zstandard

    content = bytes(4 << 20)
    body = blob.header(blob.CODEC_ZSTD) + zstandard.ZstdCompressor().compress(content)
    assert len(body) < 1 << 20 < len(content)
    with team_server(tmp_path / "served", max_object_bytes=1 << 20) as small:
        answer = put(small, digest_bytes(content), body)
        assert answer.status_code == 400, answer.text
        assert "its content is larger than this server takes (1,048,576 bytes)" in answer.text
        # Content within the limit is still taken.
        fits = bytes(1 << 19)
        fitting = blob.header(blob.CODEC_ZSTD) + zstandard.ZstdCompressor().compress(fits)
        assert put(small, digest_bytes(fits), fitting).status_code == 200
