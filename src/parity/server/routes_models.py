"""Routes of the model registry: models, versions, aliases, locks, deletes, the audit trail and
lineage. Each handler calls one method of the served workspace's ``Registry``; every change is
made as the caller (the token's user), so the audit trail names who did it.

Names are checked by the registry's own rules in each path (``NAME_PATTERN``), so no name that
the registry would refuse, and no ``..`` or ``/``, reaches a handler.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Body, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from parity.api import models as models_api
from parity.core.errors import NotFoundError
from parity.core.model import MODEL_KIND, AuditEvent, ModelVersion
from parity.core.refs import MAX_VERSION
from parity.core.roles import APPROVE, Principal, Role, Scope
from parity.registry.lineage import Lineage
from parity.registry.repository import ALIAS_PATTERN, NAME_PATTERN, Actor
from parity.server.dependencies import Caller, Context
from parity.server.routing import Route

DIGEST_PATTERN = r"^[0-9a-f]{64}$"
RUN_ID_PATTERN = r"^[0-9a-f]{8,64}$"
_WORD = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}"
# NAME (its latest version), NAME@ALIAS or NAME/VERSION: how a user names a model version.
REFERENCE_PATTERN = rf"^{_WORD}(@{_WORD}|/[1-9][0-9]{{0,17}})?$"
REASON_LENGTH = 2000
DESCRIPTION_LENGTH = 20_000

Name = Annotated[str, Path(pattern=NAME_PATTERN, description="A model's name")]
AliasName = Annotated[str, Path(pattern=NAME_PATTERN, description="An alias of the model")]
# What an alias may be set to: the description says so exactly (its pattern needs look-ahead,
# which the validator's engine lacks, so the registry itself refuses the rest with a 400).
NewAlias = Annotated[
    str,
    Path(
        pattern=NAME_PATTERN,
        description="The alias to set: a word, not a number and not 'latest'",
        json_schema_extra={"pattern": ALIAS_PATTERN},
    ),
]
Number = Annotated[int, Path(ge=1, le=MAX_VERSION, description="A version number")]


# bodies ---------------------------------------------------------------------------------------
class VersionBody(BaseModel):
    """One version of a model: what it points at, its aliases, whether it is locked."""

    model_config = ConfigDict(protected_namespaces=())

    name: str
    version: int
    model_id: str
    run_id: str | None
    created_ms: int
    created_by: str
    locked: bool
    aliases: list[str]
    description: str | None

    @classmethod
    def of(cls, version: ModelVersion) -> VersionBody:
        return cls(**version.to_dict())


class ModelSummary(BaseModel):
    name: str
    latest_version: int | None
    aliases: dict[str, int]
    created_ms: int


class AuditEntry(BaseModel):
    sequence: int
    name: str
    version: int | None
    action: str
    actor: str
    time_ms: int
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None
    forced: bool

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEntry:
        return cls(**event.to_dict())


class RegisterRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, protected_namespaces=())

    model_id: str = Field(pattern=DIGEST_PATTERN, description="The model record's id")
    run_id: str | None = Field(default=None, pattern=RUN_ID_PATTERN)
    description: str | None = Field(default=None, max_length=DESCRIPTION_LENGTH)
    reason: str | None = Field(default=None, max_length=REASON_LENGTH)


class AliasRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    version: int = Field(ge=1, le=MAX_VERSION)
    reason: str | None = Field(default=None, max_length=REASON_LENGTH)
    force: bool = False


class ChangeRequest(BaseModel):
    """Why a change is made and, for an admin, whether it may pass a lock."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str | None = Field(default=None, max_length=REASON_LENGTH)
    force: bool = False


class LockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str | None = Field(default=None, max_length=REASON_LENGTH)


class ApproveRequest(BaseModel):
    """Why the caller approves the version (kept in the audit trail)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    reason: str = Field(min_length=1, max_length=REASON_LENGTH)


class VerdictRequest(BaseModel):
    """A gate's verdict on the version, as ``parity gate --model`` records it."""

    model_config = ConfigDict(extra="forbid", strict=True)

    gate: str = Field(min_length=1, max_length=200, description="The gate's name")
    status: Literal["passed", "failed", "error"]
    reason: str | None = Field(default=None, max_length=REASON_LENGTH)


class LineageNodeBody(BaseModel):
    id: str
    kind: str
    label: str
    attributes: dict[str, Any]


class LineageEdgeBody(BaseModel):
    source: str
    target: str
    relation: str


class LineageBody(BaseModel):
    """What made a model version: the graph ``parity models lineage --json`` prints."""

    format: int
    root: str
    summary: dict[str, Any]
    nodes: list[LineageNodeBody]
    edges: list[LineageEdgeBody]
    missing_runs: list[str]

    @classmethod
    def of(cls, lineage: Lineage) -> LineageBody:
        return cls.model_validate(lineage.to_dict())


def acting(principal: Principal, name: str) -> Actor:
    """The caller as the actor of a change to model ``name``: an admin globally, or through an
    admin grant on this model, may unlock and force."""
    return Actor(name=principal.user, admin=principal.may(Role.ADMIN, (Scope.MODEL, name)))


# reading --------------------------------------------------------------------------------------
def list_models(ctx: Context) -> list[ModelSummary]:
    """Every registered model with its latest version and aliases."""
    return [ModelSummary(**model) for model in ctx.workspace.registry.models()]


def get_model(ctx: Context, name: Name) -> ModelSummary:
    """One registered model with its latest version and aliases."""
    for model in ctx.workspace.registry.models():
        if model["name"] == name:
            return ModelSummary(**model)
    raise NotFoundError(f"no model named {name!r}", hint="list models: parity models list")


def list_versions(ctx: Context, name: Name) -> list[VersionBody]:
    """The versions of a model, oldest first."""
    return [VersionBody.of(v) for v in ctx.workspace.registry.versions(name)]


def get_version(ctx: Context, name: Name, version: Number) -> VersionBody:
    """One version of a model."""
    return VersionBody.of(ctx.workspace.registry.get(name, version))


def latest_version(ctx: Context, name: Name) -> VersionBody:
    """The newest version of a model."""
    return VersionBody.of(ctx.workspace.registry.latest(name))


def aliased_version(ctx: Context, name: Name, alias: AliasName) -> VersionBody:
    """The version an alias of the model points at."""
    return VersionBody.of(ctx.workspace.registry.by_alias(name, alias))


def resolve_reference(
    ctx: Context,
    reference: Annotated[
        str, Query(pattern=REFERENCE_PATTERN, description="NAME@ALIAS, NAME/VERSION or NAME")
    ],
) -> VersionBody:
    """The version a reference names: ``NAME@ALIAS``, ``NAME/VERSION`` or ``NAME`` (latest)."""
    return VersionBody.of(ctx.workspace.registry.resolve(reference))


def model_history(ctx: Context, name: Name) -> list[AuditEntry]:
    """Every change to a model, oldest first: who, when, what, before, after and why."""
    return [AuditEntry.of(e) for e in ctx.workspace.registry.history(name)]


def version_lineage(ctx: Context, name: Name, version: Number) -> LineageBody:
    """What made a version: its run, code state, data versions, environment and parent runs."""
    return LineageBody.of(models_api.lineage(f"{name}/{version}", workspace=ctx.workspace))


# changing -------------------------------------------------------------------------------------
def register_version(
    ctx: Context, principal: Caller, name: Name, request: RegisterRequest
) -> VersionBody:
    """Register the next version of a model (creating the model on first use)."""
    if ctx.workspace.meta.record_kind(request.model_id) != MODEL_KIND:
        raise NotFoundError(
            f"no model record {request.model_id[:12]} is stored on this server",
            hint="save or log the model first (its record and files), then register it",
        )
    return VersionBody.of(
        ctx.workspace.registry.register(
            name,
            request.model_id,
            acting(principal, name),
            run_id=request.run_id,
            description=request.description,
            reason=request.reason,
        )
    )


def set_alias(
    ctx: Context, principal: Caller, name: Name, alias: NewAlias, request: AliasRequest
) -> VersionBody:
    """Point an alias at a version; moving it off a locked version needs an admin's force."""
    return VersionBody.of(
        ctx.workspace.registry.set_alias(
            name,
            request.version,
            alias,
            acting(principal, name),
            request.reason,
            force=request.force,
        )
    )


def remove_alias(
    ctx: Context,
    principal: Caller,
    name: Name,
    alias: AliasName,
    request: Annotated[ChangeRequest | None, Body()] = None,
) -> None:
    """Remove an alias; from a locked version only by an admin with force."""
    change = request or ChangeRequest()
    ctx.workspace.registry.remove_alias(
        name, alias, acting(principal, name), change.reason, force=change.force
    )


def lock_version(
    ctx: Context,
    principal: Caller,
    name: Name,
    version: Number,
    request: Annotated[LockRequest | None, Body()] = None,
) -> VersionBody:
    """Lock a version: its aliases stay and it is not deleted, unless an admin forces."""
    registry = ctx.workspace.registry
    registry.lock(name, version, acting(principal, name), (request or LockRequest()).reason)
    return VersionBody.of(registry.get(name, version))


def unlock_version(
    ctx: Context,
    principal: Caller,
    name: Name,
    version: Number,
    request: Annotated[LockRequest | None, Body()] = None,
) -> VersionBody:
    """Unlock a version (an admin of the server, or of this model, only)."""
    registry = ctx.workspace.registry
    registry.unlock(name, version, acting(principal, name), (request or LockRequest()).reason)
    return VersionBody.of(registry.get(name, version))


def delete_version(
    ctx: Context,
    principal: Caller,
    name: Name,
    version: Number,
    request: Annotated[ChangeRequest | None, Body()] = None,
) -> VersionBody:
    """Delete a version, refused while it is locked or aliased unless an admin forces; answers
    the version as it was."""
    change = request or ChangeRequest()
    registry = ctx.workspace.registry
    deleted = registry.get(name, version)
    registry.delete(name, version, acting(principal, name), change.reason, force=change.force)
    return VersionBody.of(deleted)


def approve_version(
    ctx: Context, principal: Caller, name: Name, version: Number, request: ApproveRequest
) -> VersionBody:
    """Approve a version for promotion as the caller (not its registrant); once per user."""
    return VersionBody.of(
        ctx.workspace.registry.approve(name, version, acting(principal, name), request.reason)
    )


def record_verdict(
    ctx: Context, principal: Caller, name: Name, version: Number, request: VerdictRequest
) -> VersionBody:
    """Record a gate's verdict on a version (a promotion policy reads each gate's last one)."""
    return VersionBody.of(
        ctx.workspace.registry.record_verdict(
            name, version, request.gate, request.status, acting(principal, name), request.reason
        )
    )


_MODEL = (Scope.MODEL, "name")
R, W = Role.READER, Role.WRITER

ROUTES = (
    Route("GET", "/models", R, list_models, "List models", response_model=list[ModelSummary]),
    Route(
        "GET",
        "/model-versions",
        R,
        resolve_reference,
        "Resolve a model reference",
        response_model=VersionBody,
    ),
    Route(
        "GET", "/models/{name}", R, get_model, "Get a model", _MODEL, response_model=ModelSummary
    ),
    Route(
        "GET",
        "/models/{name}/versions",
        R,
        list_versions,
        "List a model's versions",
        _MODEL,
        response_model=list[VersionBody],
    ),
    Route(
        "POST",
        "/models/{name}/versions",
        W,
        register_version,
        "Register a model version",
        _MODEL,
        response_model=VersionBody,
        status_code=201,
    ),
    Route(
        "GET",
        "/models/{name}/latest",
        R,
        latest_version,
        "Get a model's latest version",
        _MODEL,
        response_model=VersionBody,
    ),
    Route(
        "GET",
        "/models/{name}/versions/{version}",
        R,
        get_version,
        "Get a model version",
        _MODEL,
        response_model=VersionBody,
    ),
    Route(
        "DELETE",
        "/models/{name}/versions/{version}",
        W,
        delete_version,
        "Delete a model version",
        _MODEL,
        response_model=VersionBody,
    ),
    Route(
        "POST",
        "/models/{name}/versions/{version}/lock",
        W,
        lock_version,
        "Lock a model version",
        _MODEL,
        response_model=VersionBody,
    ),
    Route(
        "POST",
        "/models/{name}/versions/{version}/unlock",
        W,
        unlock_version,
        "Unlock a model version",
        _MODEL,
        response_model=VersionBody,
    ),
    Route(
        "POST",
        "/models/{name}/versions/{version}/approvals",
        APPROVE,
        approve_version,
        "Approve a model version for promotion",
        _MODEL,
        response_model=VersionBody,
    ),
    Route(
        "POST",
        "/models/{name}/versions/{version}/verdicts",
        W,
        record_verdict,
        "Record a gate verdict on a model version",
        _MODEL,
        response_model=VersionBody,
    ),
    Route(
        "GET",
        "/models/{name}/versions/{version}/lineage",
        R,
        version_lineage,
        "Trace a model version's lineage",
        _MODEL,
        response_model=LineageBody,
    ),
    Route(
        "GET",
        "/models/{name}/aliases/{alias}",
        R,
        aliased_version,
        "Get the version an alias names",
        _MODEL,
        response_model=VersionBody,
    ),
    Route(
        "PUT",
        "/models/{name}/aliases/{alias}",
        W,
        set_alias,
        "Set a model alias",
        _MODEL,
        response_model=VersionBody,
    ),
    Route(
        "DELETE",
        "/models/{name}/aliases/{alias}",
        W,
        remove_alias,
        "Remove a model alias",
        _MODEL,
        status_code=204,
    ),
    Route(
        "GET",
        "/models/{name}/history",
        R,
        model_history,
        "List a model's audit trail",
        _MODEL,
        response_model=list[AuditEntry],
    ),
)
