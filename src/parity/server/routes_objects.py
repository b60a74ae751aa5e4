"""Routes of the content-addressed object store: which objects exist, get, put, list, delete.

Objects are addressed by digest only (64 lowercase hex characters, checked by the route's
pattern), so no string a client sends is ever joined to a folder or bucket path. An upload is
streamed to a temp file in the store's scratch folder, decoded and re-hashed there, and stored
only when its content is the digest it was sent under: a mismatch is refused (400) and leaves
nothing behind.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, BinaryIO

import anyio.to_thread
from fastapi import Path as PathParameter
from fastapi import Query, Request
from pydantic import BaseModel, Field
from starlette.responses import Response, StreamingResponse

from parity.core.errors import CorruptObject, NotFoundError, UsageError
from parity.core.file_errors import file_error
from parity.core.ids import is_digest
from parity.core.roles import Role
from parity.server.dependencies import Context
from parity.server.routing import Route
from parity.server.settings import ServerSettings
from parity.store.objects import blob, scratch
from parity.store.objects.backend import ObjectBackend
from parity.store.objects.store import ObjectStore, digest_of_key, object_key

DIGEST_PATTERN = r"^[0-9a-f]{64}$"
Digest = Annotated[str, PathParameter(pattern=DIGEST_PATTERN, description="a BLAKE3 digest")]
DigestField = Annotated[str, Field(pattern=DIGEST_PATTERN)]
# Digests one request may ask about, and objects one page of a listing holds.
MAX_ASKED = 10_000
MAX_PAGE = 10_000
_BLOCK = 1 << 20


class OctetStream(Response):
    media_type = "application/octet-stream"


class Digests(BaseModel):
    digests: list[DigestField] = Field(max_length=MAX_ASKED)


class Present(BaseModel):
    present: list[str]


class Stored(BaseModel):
    digest: str
    size: int


class Deleted(BaseModel):
    digest: str


class ObjectPage(BaseModel):
    digests: list[str]
    next: str | None = Field(description="pass as 'after' for the next page; null at the end")


def has_objects(asked: Digests, ctx: Context) -> Present:
    """The subset of ``digests`` the store holds."""
    missing = ctx.workspace.objects.missing(asked.digests)
    return Present(present=sorted(set(asked.digests) - missing))


def get_object(digest: Digest, ctx: Context) -> Response:
    """The stored (encoded) bytes of one object; the client verifies them against the digest."""
    backend = ctx.workspace.objects.backend
    key = object_key(digest)
    local = backend.local_path(key)
    if local is not None:
        try:
            handle: BinaryIO = open(local, "rb")  # noqa: SIM115 - the stream closes it
        except FileNotFoundError as exc:
            raise NotFoundError(f"object {digest} is not in this server's store") from exc
        except OSError as exc:
            raise file_error(exc, None, f"read object {digest[:12]}") from exc
    else:
        handle = _downloaded(backend, key)
    size = os.fstat(handle.fileno()).st_size
    return StreamingResponse(
        _blocks(handle),
        media_type=OctetStream.media_type,
        headers={"Content-Length": str(size)},
    )


def _downloaded(backend: ObjectBackend, key: str) -> BinaryIO:
    """The stored bytes of ``key`` in a temp file of the scratch folder, open and already
    unlinked (a remote backend's object is fetched whole before its first byte is sent)."""
    held, path = scratch.create(backend.scratch_dir(), ".get-")
    try:
        backend.read_to_file(key, path)
        return open(path, "rb")
    finally:
        path.unlink(missing_ok=True)
        os.close(held)


def _blocks(handle: BinaryIO) -> Iterator[bytes]:
    try:
        while block := handle.read(_BLOCK):
            yield block
    finally:
        handle.close()


async def put_object(digest: Digest, request: Request, ctx: Context) -> Stored:
    """Store one object's encoded bytes, refused unless their content hashes to ``digest``."""
    # Async, unlike the other handlers: only an async handler can stream the body to a file
    # (an object may be gigabytes); the blocking steps run in worker threads.
    limit = ctx.settings.max_object_bytes
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise UsageError(
            f"the object ({int(length):,} bytes) is larger than this server takes ({limit:,})",
            hint="ask the server's admin to raise its object size limit",
        )
    store = ctx.workspace.objects
    held, path = await anyio.to_thread.run_sync(
        scratch.create, store.backend.scratch_dir(), ".put-"
    )
    try:
        size = 0
        with open(held, "wb", closefd=False) as target:
            async for block in request.stream():
                size += len(block)
                if size > limit:
                    raise UsageError(
                        f"the object is larger than this server takes ({limit:,} bytes)",
                        hint="ask the server's admin to raise its object size limit",
                    )
                target.write(block)
        await anyio.to_thread.run_sync(_check_and_store, store, digest, path, limit)
    finally:
        path.unlink(missing_ok=True)
        os.close(held)  # only now: its lock kept sweeps away from the temp file
    return Stored(digest=digest, size=size)


def _check_and_store(store: ObjectStore, digest: str, path: Path, limit: int) -> None:
    try:
        with open(path, "rb") as source:
            content = 0
            for block in blob.decode_stream(digest, source):
                content += len(block)
                if content > limit:
                    # The body was within the limit; its decoded content must be too, or a few
                    # KB of zstd would keep a worker hashing terabytes of zeros.
                    raise UsageError(
                        f"refused the upload of object {digest}: its content is larger than "
                        f"this server takes ({limit:,} bytes)",
                        hint="ask the server's admin to raise its object size limit",
                    )
    except CorruptObject as exc:
        raise UsageError(
            f"refused the upload of object {digest}: {exc.message.split(': ', 1)[-1]}",
            hint="send the encoded blob whose content hashes to the digest in the URL",
        ) from exc
    store.backend.write_file(object_key(digest), path)


def list_objects(
    ctx: Context,
    after: Annotated[str, Query(pattern=r"^([0-9a-f]{64})?$")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = MAX_PAGE,
) -> ObjectPage:
    """One page of the stored digests in order, those after ``after``."""
    store = ctx.workspace.objects
    digests = (d for k in store.backend.list_keys() if is_digest(d := digest_of_key(k)))
    page = heapq.nsmallest(limit + 1, (d for d in digests if d > after))
    more = len(page) > limit
    page = page[:limit]
    return ObjectPage(digests=page, next=page[-1] if more else None)


def delete_object(digest: Digest, ctx: Context) -> Deleted:
    """Delete one object (gc); deleting an absent object is not an error."""
    ctx.workspace.objects.delete(digest)
    return Deleted(digest=digest)


ROUTES = (
    Route(
        "POST",
        "/objects/has",
        Role.READER,
        has_objects,
        "Ask which objects exist",
        response_model=Present,
    ),
    Route(
        "GET",
        "/objects/{digest}",
        Role.READER,
        get_object,
        "Get an object",
        response_class=OctetStream,
    ),
    Route(
        "PUT",
        "/objects/{digest}",
        Role.WRITER,
        put_object,
        "Put an object",
        max_body=ServerSettings.max_object_bytes,
        raw_body=True,
        response_model=Stored,
    ),
    Route("GET", "/objects", Role.ADMIN, list_objects, "List objects", response_model=ObjectPage),
    Route(
        "DELETE",
        "/objects/{digest}",
        Role.ADMIN,
        delete_object,
        "Delete an object",
        response_model=Deleted,
    ),
)
