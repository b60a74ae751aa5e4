"""Routes of the chunk index: where stored chunks are, which packs exist, forgetting what gc
deleted, and indexing a data version whose objects were pulled into the store.

Locations are checked against this server's object store before they are answered, as the
embedded index does, so a client never reuses a chunk from a pack that is gone.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from parity.core.errors import UsageError
from parity.core.roles import Role
from parity.data.index import ChunkIndex
from parity.data.manifest import Chunk
from parity.server.dependencies import Context
from parity.server.routes_objects import Digest, DigestField
from parity.server.routing import Route

MAX_DIGESTS = 10_000
MAX_CHUNKS = 10_000
MAX_FORGET = 100_000


class ChunkRow(BaseModel):
    digest: DigestField
    pack: DigestField
    offset: Annotated[int, Field(ge=0)]
    stored: Annotated[int, Field(ge=0)]
    size: Annotated[int, Field(ge=0)]


class ChunkDigests(BaseModel):
    digests: list[DigestField] = Field(max_length=MAX_DIGESTS)


class Located(BaseModel):
    chunks: list[ChunkRow]


class NewChunks(BaseModel):
    packs: list[DigestField] = Field(max_length=MAX_CHUNKS)
    chunks: list[ChunkRow] = Field(max_length=MAX_CHUNKS)
    created_ms: int = Field(ge=0)


class ChunksAdded(BaseModel):
    chunks: int
    packs: int


class Packs(BaseModel):
    packs: list[str]


class Forget(BaseModel):
    packs: list[DigestField] = Field(max_length=MAX_FORGET)
    versions: list[DigestField] = Field(max_length=MAX_FORGET)


class Forgotten(BaseModel):
    packs: int
    versions: int


class IndexVersion(BaseModel):
    created_ms: int = Field(default=0, ge=0)


class VersionIndexed(BaseModel):
    chunks: int


def _index(ctx: Context) -> ChunkIndex:
    return ChunkIndex(ctx.workspace.meta, ctx.workspace.objects)


def locate_chunks(body: ChunkDigests, ctx: Context) -> Located:
    """Where the known ones among ``digests`` are stored, in packs that exist."""
    found = _index(ctx).locate(body.digests)
    return Located(
        chunks=[
            ChunkRow(digest=c.digest, pack=c.pack, offset=c.offset, stored=c.stored, size=c.size)
            for c in found.values()
        ]
    )


def add_chunks(body: NewChunks, ctx: Context) -> ChunksAdded:
    """Remember new packs and the chunks in them; every pack named must be stored already."""
    packs = set(body.packs) | {row.pack for row in body.chunks}
    absent = ctx.workspace.objects.missing(packs)
    if absent:
        raise UsageError(
            f"{len(absent)} of the packs named are not in the object store "
            f"(first: {min(absent)[:12]})",
            hint="put a pack before indexing its chunks",
        )
    chunks = [Chunk(r.digest, r.pack, r.offset, r.stored, r.size) for r in body.chunks]
    _index(ctx).add(chunks, body.packs, body.created_ms)
    return ChunksAdded(chunks=len(chunks), packs=len(body.packs))


def known_packs(ctx: Context) -> Packs:
    """Every pack the index lists."""
    return Packs(packs=sorted(_index(ctx).known_packs()))


def forget(body: Forget, ctx: Context) -> Forgotten:
    """Drop deleted packs and data versions from the index (gc)."""
    _index(ctx).forget(body.packs, body.versions)
    return Forgotten(packs=len(body.packs), versions=len(body.versions))


def index_version(data_version: Digest, body: IndexVersion, ctx: Context) -> VersionIndexed:
    """Index a data version whose manifest and packs are in the store (after a pull)."""
    return VersionIndexed(chunks=_index(ctx).index_version(data_version, body.created_ms))


ROUTES = (
    Route(
        "POST",
        "/data/chunks/locate",
        Role.READER,
        locate_chunks,
        "Locate chunks",
        response_model=Located,
    ),
    Route(
        "POST", "/data/chunks", Role.WRITER, add_chunks, "Index chunks", response_model=ChunksAdded
    ),
    Route("GET", "/data/packs", Role.READER, known_packs, "List packs", response_model=Packs),
    Route(
        "POST",
        "/data/forget",
        Role.ADMIN,
        forget,
        "Forget deleted data",
        response_model=Forgotten,
    ),
    Route(
        "POST",
        "/data/versions/{data_version}/index",
        Role.WRITER,
        index_version,
        "Index a data version",
        response_model=VersionIndexed,
    ),
)
