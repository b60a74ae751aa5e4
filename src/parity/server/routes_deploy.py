"""Routes of deployment: what runs where, and the exports filed under model versions.

The server vouches for what a client cannot: a deployment is recorded as the caller at the
server's time with the environment the version's model record names, and an export is filed
only when its record, already stored, belongs to the version in the path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from parity.api import models as models_api
from parity.core.deployment import EXPORT_KIND, DeployExport, Deployment, ImageReference
from parity.core.errors import ConflictError, NotFoundError, UsageError
from parity.core.refs import MAX_VERSION
from parity.core.roles import Role, Scope
from parity.deploy.deployments import SOURCES
from parity.deploy.exports import Filing
from parity.registry.repository import NAME_PATTERN
from parity.server.dependencies import Caller, Context
from parity.server.routing import Route
from parity.workspace import now_ms

DIGEST_PATTERN = r"^[0-9a-f]{64}$"
PLACE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,199}$"
NOTE_LENGTH = 2000
IMAGE_LENGTH = 500

Name = Annotated[str, Path(pattern=NAME_PATTERN, description="A model's name")]
Number = Annotated[int, Path(ge=1, le=MAX_VERSION, description="A version number")]


class DeploymentBody(BaseModel):
    """A model version running at a place, as recorded."""

    model_config = ConfigDict(protected_namespaces=())

    where: str
    model: str
    name: str
    version: int
    model_id: str
    image: str | None
    image_digest: str | None
    since_ms: int
    recorded_by: str
    source: str
    environment_id: str | None
    note: str | None

    @classmethod
    def of(cls, deployment: Deployment) -> DeploymentBody:
        return cls.model_validate(deployment.to_dict())


class DeploymentRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, protected_namespaces=())

    where: str = Field(pattern=PLACE_PATTERN, description="Where it runs, e.g. prod-eu")
    model_id: str = Field(
        pattern=DIGEST_PATTERN, description="The model record the caller means the version as"
    )
    image: str | None = Field(default=None, max_length=IMAGE_LENGTH)
    source: str = Field(default="record", pattern="^(record|serve)$")
    note: str | None = Field(default=None, max_length=NOTE_LENGTH)


class DeploymentRecorded(BaseModel):
    deployment: DeploymentBody
    added: bool = Field(description="False: the place already ran exactly this")


class ExportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    export_id: str = Field(pattern=DIGEST_PATTERN, description="A stored deploy_export record")


class FilingBody(BaseModel):
    """A deploy export filed under a model version."""

    name: str
    version: int
    export_id: str
    target: str
    created_ms: int
    created_by: str

    @classmethod
    def of(cls, filing: Filing) -> FilingBody:
        return cls(**filing.__dict__)


def list_deployments(
    ctx: Context,
    name: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
    where: Annotated[str | None, Query(pattern=PLACE_PATTERN)] = None,
    history: bool = False,
) -> list[DeploymentBody]:
    """What runs now (the newest record of each place and model), or with ``history`` every
    record, oldest first."""
    ledger = ctx.workspace.deployments
    found = ledger.history(name, where) if history else ledger.current(name, where)
    return [DeploymentBody.of(d) for d in found]


def record_deployment(
    ctx: Context, principal: Caller, name: Name, version: Number, request: DeploymentRequest
) -> DeploymentRecorded:
    """Record that a model version runs at a place (recording what already runs there changes
    nothing)."""
    if request.source not in SOURCES:  # the pattern says so too; the ledger's own rule
        raise UsageError(f"unknown deployment source {request.source!r}")
    image = None if request.image is None else ImageReference.parse(request.image)
    if request.source == "record" and (image is None or image.digest is None):
        raise UsageError(
            "a recorded rollout names its image by digest",
            hint="give the image as NAME@sha256:DIGEST (a tag can be moved to another image)",
        )
    found = ctx.workspace.registry.get(name, version)
    if found.model_id != request.model_id:
        raise ConflictError(
            f"{found.ref} is model {found.model_id[:12]}, not {request.model_id[:12]}",
            hint="resolve the version again: parity models show " + found.ref,
        )
    record = models_api.record(found.ref, workspace=ctx.workspace)
    deployment, added = ctx.workspace.deployments.record(
        request.where,
        found,
        record.environment_id,
        None if image is None else str(image),
        principal.user,
        request.source,
        request.note,
    )
    return DeploymentRecorded(deployment=DeploymentBody.of(deployment), added=added)


def list_exports(ctx: Context, name: Name, version: Number) -> list[FilingBody]:
    """The deploy exports filed under a model version, oldest first."""
    ctx.workspace.registry.get(name, version)  # a version that is not there is a 404
    return [FilingBody.of(f) for f in ctx.workspace.export_filings.of_version(name, version)]


def file_export(
    ctx: Context, principal: Caller, name: Name, version: Number, request: ExportRequest
) -> FilingBody:
    """File a stored deploy export record under its model version (again: no change)."""
    found = ctx.workspace.registry.get(name, version)
    if ctx.workspace.meta.record_kind(request.export_id) != EXPORT_KIND:
        raise NotFoundError(
            f"no deploy export record {request.export_id[:12]} is stored on this server",
            hint="store the export's files and record first",
        )
    export = DeployExport.from_record(ctx.workspace.records.get(request.export_id))
    if (export.name, export.version, export.model_id) != (name, version, found.model_id):
        raise ConflictError(
            f"export {request.export_id[:12]} is for {export.ref}, not {found.ref}",
            hint=f"file it under /models/{export.name}/versions/{export.version}",
        )
    filings = ctx.workspace.export_filings
    filings.file(Filing(name, version, request.export_id, export.target, now_ms(), principal.user))
    for filing in filings.of_version(name, version):
        if filing.export_id == request.export_id:
            return FilingBody.of(filing)
    raise AssertionError("a filing just made is listed")


_MODEL = (Scope.MODEL, "name")
R, W = Role.READER, Role.WRITER

ROUTES = (
    Route("GET", "/deployments", R, list_deployments, "List what runs where",
          response_model=list[DeploymentBody]),
    Route("POST", "/models/{name}/versions/{version}/deployments", W, record_deployment,
          "Record where a model version runs", _MODEL, response_model=DeploymentRecorded),
    Route("GET", "/models/{name}/versions/{version}/exports", R, list_exports,
          "List a model version's deploy exports", _MODEL, response_model=list[FilingBody]),
    Route("POST", "/models/{name}/versions/{version}/exports", W, file_export,
          "File a deploy export under a model version", _MODEL, response_model=FilingBody),
)  # fmt: skip
