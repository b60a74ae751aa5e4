"""Routes of the record index (which immutable records exist, of which kind and label), the
schema's revisions, and the leases that stand in for database locks a client cannot hold.

A record's bytes go through the object routes first; indexing one the store lacks is refused,
so the index never names a record nobody can read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path as PathParameter
from fastapi import Query
from pydantic import BaseModel, Field

from parity.core.errors import UsageError
from parity.core.roles import Role
from parity.server.dependencies import Context
from parity.server.routes_objects import Digest, DigestField
from parity.server.routing import Route
from parity.store.meta import leases
from parity.workspace import now_ms

KIND_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
LEASE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
HOLDER_PATTERN = r"^[0-9a-f]{32}$"
MAX_ENTRIES = 5_000
MAX_IDS = 10_000
Kind = Annotated[str, Field(pattern=KIND_PATTERN)]
LeaseName = Annotated[str, PathParameter(pattern=LEASE_PATTERN)]


class IndexEntry(BaseModel):
    id: DigestField
    kind: Kind
    created_ms: int = Field(ge=0)
    label: str | None = Field(default=None, max_length=4096)


class IndexEntries(BaseModel):
    entries: list[IndexEntry] = Field(max_length=MAX_ENTRIES)


class Indexed(BaseModel):
    indexed: int


class RecordIds(BaseModel):
    ids: list[str]


class RecordKind(BaseModel):
    kind: str | None


class RecordCounts(BaseModel):
    counts: dict[str, int]


class DataVersionReferences(BaseModel):
    versions: dict[str, str] = Field(description="data version → one place that names it")


class SchemaRevisions(BaseModel):
    revisions: list[str]


class LeaseRequest(BaseModel):
    holder: str = Field(pattern=HOLDER_PATTERN)
    seconds: float = Field(ge=1, le=3600)


class LeaseState(BaseModel):
    name: str
    held: bool
    expires_ms: int


class Released(BaseModel):
    released: bool


def index_records(body: IndexEntries, ctx: Context) -> Indexed:
    """Index stored records (known ids are skipped)."""
    ids = [entry.id for entry in body.entries]
    absent = ctx.workspace.objects.missing(ids)
    if absent:
        raise UsageError(
            f"{len(absent)} of these records are not in the object store "
            f"(first: {min(absent)[:12]})",
            hint="put a record's bytes before indexing it",
        )
    ctx.workspace.meta.index_records(
        (entry.id, entry.kind, entry.created_ms, entry.label) for entry in body.entries
    )
    return Indexed(indexed=len(ids))


def record_ids(
    ctx: Context,
    kind: Annotated[str | None, Query(pattern=KIND_PATTERN)] = None,
    prefix: Annotated[str, Query(pattern=r"^[0-9a-f]{0,64}$")] = "",
    after: Annotated[str, Query(pattern=r"^([0-9a-f]{64})?$")] = "",
    limit: Annotated[int, Query(ge=1, le=MAX_IDS)] = MAX_IDS,
) -> RecordIds:
    """Indexed record ids (of ``kind``, starting with ``prefix``) in order, after ``after``."""
    ids = ctx.workspace.meta.record_ids(kind, prefix, after=after, limit=limit)
    return RecordIds(ids=ids)


def labelled_records(
    ctx: Context,
    kind: Annotated[str, Query(pattern=KIND_PATTERN)],
    label: Annotated[str, Query(max_length=4096)],
) -> RecordIds:
    """The ids of ``kind`` indexed with ``label``, oldest first."""
    return RecordIds(ids=ctx.workspace.meta.labelled_records(kind, label))


def record_kind(record_id: Digest, ctx: Context) -> RecordKind:
    """The kind of an indexed record, or null when it is not indexed."""
    return RecordKind(kind=ctx.workspace.meta.record_kind(record_id))


def count_records(ctx: Context) -> RecordCounts:
    """How many records of each kind are indexed."""
    return RecordCounts(counts=ctx.workspace.meta.count_records())


def referenced_data_versions(ctx: Context) -> DataVersionReferences:
    """Every data version a row of the metadata store names (what gc keeps for them)."""
    return DataVersionReferences(versions=ctx.workspace.meta.referenced_data_versions())


def schema_revisions(ctx: Context) -> SchemaRevisions:
    """The migration revisions the database is at."""
    return SchemaRevisions(revisions=ctx.workspace.meta.schema_revisions())


def take_lease(name: LeaseName, body: LeaseRequest, ctx: Context) -> LeaseState:
    """Take (or renew) a lease; ``held`` is false while another holder's is running."""
    now = now_ms()
    until = now + int(body.seconds * 1000)
    lease = leases.take_lease(ctx.workspace.meta, name, body.holder, until, now)
    return LeaseState(name=name, held=lease.held, expires_ms=lease.expires_ms)


def release_lease(
    name: LeaseName,
    ctx: Context,
    holder: Annotated[str, Query(pattern=HOLDER_PATTERN)],
) -> Released:
    """Give a lease up (only its holder can)."""
    return Released(released=leases.release_lease(ctx.workspace.meta, name, holder))


ROUTES = (
    Route(
        "POST",
        "/records/index",
        Role.WRITER,
        index_records,
        "Index stored records",
        response_model=Indexed,
    ),
    Route("GET", "/records", Role.READER, record_ids, "List record ids", response_model=RecordIds),
    Route(
        "GET",
        "/records/labelled",
        Role.READER,
        labelled_records,
        "List records by label",
        response_model=RecordIds,
    ),
    Route(
        "GET",
        "/records/counts",
        Role.READER,
        count_records,
        "Count records by kind",
        response_model=RecordCounts,
    ),
    Route(
        "GET",
        "/records/referenced-data-versions",
        Role.READER,
        referenced_data_versions,
        "List data versions rows name",
        response_model=DataVersionReferences,
    ),
    Route(
        "GET",
        "/records/{record_id}/kind",
        Role.READER,
        record_kind,
        "Get a record's kind",
        response_model=RecordKind,
    ),
    Route(
        "GET",
        "/schema",
        Role.READER,
        schema_revisions,
        "Name the schema's revisions",
        response_model=SchemaRevisions,
    ),
    Route(
        "POST",
        "/leases/{name}",
        Role.WRITER,
        take_lease,
        "Take a lease",
        response_model=LeaseState,
    ),
    Route(
        "DELETE",
        "/leases/{name}",
        Role.WRITER,
        release_lease,
        "Release a lease",
        response_model=Released,
    ),
)
