"""Routes of monitoring: the prediction logs model servers send, the labels that come back for
them, the profiles of training data, drift reports and performance checks. Handlers call the
served workspace's ``MonitorStore`` and ``parity.api``.

The drift route takes the reference profile by id only (a data version or a profile id): a
client-supplied string is never read as a file on the server.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from parity.api import monitor as monitor_api
from parity.core.errors import NotFoundError
from parity.core.feedback import MAX_LABELS, MAX_ROW, REQUEST_ID_PATTERN
from parity.core.profile import PROFILE_KIND
from parity.core.refs import MAX_VERSION
from parity.core.roles import Role, Scope
from parity.monitor.logged import MonitorStore
from parity.registry.repository import NAME_PATTERN
from parity.server.dependencies import Context
from parity.server.routing import Route
from parity.workspace import now_ms

DIGEST_PATTERN = r"^[0-9a-f]{64}$"
ID_PREFIX_PATTERN = r"^[0-9a-f]{4,64}$"
# Rows one request may send, and read back.
BATCH_ROWS = 10_000
# The largest row a server logs (its inputs and prediction as JSON), and the most row bytes one
# page of logged predictions carries: a reader's memory is bounded whatever the rows hold.
MAX_ROW_BYTES = 256 << 10
PAGE_BYTES = 16 << 20
# The last millisecond of the year 9999: a time any clock and datetime can hold.
MAX_TIME_MS = 253_402_300_799_999
# The largest whole number a JSON body carries exactly.
# Prediction rows are numbered by a 64-bit sequence.
MAX_ROW_ID = 2**63 - 1

Name = Annotated[str, Path(pattern=NAME_PATTERN, description="A model's name")]
Number = Annotated[int, Path(ge=1, le=MAX_VERSION, description="A version number")]
DataVersion = Annotated[str, Path(pattern=DIGEST_PATTERN, description="A data version id")]


class PredictionRow(BaseModel):
    """One sampled prediction of a model server."""

    model_config = ConfigDict(extra="forbid", strict=True)

    time_ms: int = Field(ge=0, le=MAX_TIME_MS)
    version: int = Field(ge=1, le=MAX_VERSION)
    environment_id: str | None = Field(default=None, pattern=DIGEST_PATTERN)
    data_version: str | None = Field(default=None, pattern=DIGEST_PATTERN)
    inputs: list[Any] = Field(description="The input row, in the signature's column order")
    prediction: Any = Field(description="What the model answered for the row")
    request_id: str | None = Field(
        default=None, pattern=REQUEST_ID_PATTERN, description="The request that asked"
    )
    row: int | None = Field(default=None, ge=0, le=MAX_ROW, description="The row's place in it")

    @model_validator(mode="after")
    def _small_enough(self) -> PredictionRow:
        try:
            size = len(orjson.dumps(self.inputs)) + len(orjson.dumps(self.prediction))
        except orjson.JSONEncodeError as exc:  # a TypeError: pydantic would not report it
            raise ValueError(f"the row cannot be stored as JSON: {exc}") from exc
        if size > MAX_ROW_BYTES:
            raise ValueError(f"the row is {size} bytes of JSON; a row may hold {MAX_ROW_BYTES}")
        return self


class PredictionBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    rows: list[PredictionRow] = Field(max_length=BATCH_ROWS)


class Stored(BaseModel):
    stored: int


class LoggedRow(BaseModel):
    id: int
    time_ms: int
    model: str
    version: int
    environment_id: str | None
    data_version: str | None
    inputs: list[Any]
    prediction: Any
    request_id: str | None
    row: int | None


class LoggedPage(BaseModel):
    rows: list[LoggedRow]
    next: int | None = Field(description="Ask again with after=next for more; null at the end")


class LabelItem(BaseModel):
    """The ground truth of one logged prediction, named by its request id (and row)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    request_id: str = Field(pattern=REQUEST_ID_PATTERN)
    row: int = Field(default=0, ge=0, le=MAX_ROW)
    label: bool | int | float | Annotated[str, Field(max_length=1000)]


class LabelBatch(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    labels: list[LabelItem] = Field(min_length=1, max_length=MAX_LABELS)


class LabelReceiptBody(BaseModel):
    received: int
    stored: int
    unknown: int = Field(description="Labels whose request no logged prediction answered")
    unknown_ids: list[str] = Field(description="The first of those request ids")
    ambiguous: int = Field(
        default=0, description="Labels whose request id several logged predictions share"
    )
    ambiguous_ids: list[str] = Field(default=[], description="The first of those request ids")


class LabelledRow(BaseModel):
    id: int
    time_ms: int
    version: int
    request_id: str
    row: int
    prediction: Any
    label: Any


class LabelledPage(BaseModel):
    rows: list[LabelledRow]
    next: int | None = Field(description="Ask again with after=next for more; null at the end")


class PerformanceRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    report: dict[str, Any] = Field(description="A performance check's report")

    @model_validator(mode="after")
    def _a_report(self) -> PerformanceRequest:
        if self.report.get("status") not in ("ok", "degraded", "not evaluated"):
            raise ValueError("the report's status must be 'ok', 'degraded' or 'not evaluated'")
        if len(orjson.dumps(self.report)) > MAX_ROW_BYTES:
            raise ValueError(f"a report may hold {MAX_ROW_BYTES} bytes of JSON")
        return self


class PerformanceHistory(BaseModel):
    checks: list[dict[str, Any]] = Field(description="Reports, oldest first, with time_ms")


class ProfileRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    profile_id: str = Field(pattern=DIGEST_PATTERN)


class DataProfile(BaseModel):
    data_version: str
    profile_id: str


class FeatureDriftBody(BaseModel):
    name: str
    rows: int
    psi: float
    ks: float | None
    psi_threshold: float
    ks_threshold: float | None
    drifted: bool
    milliseconds: float


class DriftBody(BaseModel):
    """The inputs a model version was served, compared with its training data's profile."""

    rows: int
    min_rows: int
    enough_rows: bool
    ok: bool
    drifted: list[str]
    features: list[FeatureDriftBody]


def _store(ctx: Context) -> MonitorStore:
    return MonitorStore(ctx.workspace.meta)


def append_predictions(ctx: Context, name: Name, batch: PredictionBatch) -> Stored:
    """Keep a batch of a model's sampled predictions (sent by a model server) of versions
    the registry has."""
    for version in sorted({row.version for row in batch.rows}):
        ctx.workspace.registry.get(name, version)  # NotFoundError names what is missing
    rows = [{"model": name, **row.model_dump()} for row in batch.rows]
    _store(ctx).append_predictions(rows)
    return Stored(stored=len(rows))


def logged_predictions(
    ctx: Context,
    name: Name,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
    since_ms: Annotated[int | None, Query(ge=0, le=MAX_TIME_MS)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=BATCH_ROWS)] = BATCH_ROWS,
    until_ms: Annotated[int | None, Query(ge=0, le=MAX_TIME_MS)] = None,
) -> LoggedPage:
    """A model's logged predictions, oldest first, a page at a time; ``until_ms`` leaves out
    those logged at or after it."""
    rows, following = _store(ctx).logged_page(
        name, version, since_ms, after, limit, PAGE_BYTES, until_ms=until_ms
    )
    return LoggedPage(rows=[LoggedRow(**row.to_dict()) for row in rows], next=following)


def store_labels(ctx: Context, name: Name, batch: LabelBatch) -> LabelReceiptBody:
    """Keep ground-truth labels of a model's logged predictions, joined by request id; the
    labels no logged prediction answered are counted and named, not kept."""
    labels = [item.model_dump() for item in batch.labels]
    receipt = _store(ctx).store_labels(name, labels, now_ms())
    return LabelReceiptBody(**receipt.to_dict())


def labelled_predictions(
    ctx: Context,
    name: Name,
    version: Annotated[int | None, Query(ge=1, le=MAX_VERSION)] = None,
    since_ms: Annotated[int | None, Query(ge=0, le=MAX_TIME_MS)] = None,
    after: Annotated[int, Query(ge=0, le=MAX_ROW_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=BATCH_ROWS)] = BATCH_ROWS,
) -> LabelledPage:
    """A model's logged predictions that have a label, oldest first, a page at a time."""
    rows, following = _store(ctx).labelled_page(name, version, since_ms, after, limit, PAGE_BYTES)
    return LabelledPage(rows=[LabelledRow(**row.to_dict()) for row in rows], next=following)


def record_performance(
    ctx: Context, name: Name, version: Number, request: PerformanceRequest
) -> Stored:
    """Keep a performance check's report with the model version it judged."""
    ctx.workspace.registry.get(name, version)  # NotFoundError names what is missing
    _store(ctx).record_performance(name, version, request.report, now_ms())
    return Stored(stored=1)


def performance_history(ctx: Context, name: Name, version: Number) -> PerformanceHistory:
    """The performance checks of a model version, oldest first."""
    return PerformanceHistory(checks=_store(ctx).performance_history(name, version))


def get_profile(ctx: Context, data_version: DataVersion) -> DataProfile:
    """The profile a data version was given, which drift is checked against."""
    profile_id = _store(ctx).profile_of(data_version)
    if profile_id is None:
        raise NotFoundError(
            f"data version {data_version[:12]} has no profile",
            hint="profile its table: parity monitor profile, or run.use_data",
        )
    return DataProfile(data_version=data_version, profile_id=profile_id)


def remember_profile(
    ctx: Context, data_version: DataVersion, request: ProfileRequest
) -> DataProfile:
    """Keep a stored profile as a data version's (the first one kept stays)."""
    if ctx.workspace.meta.record_kind(request.profile_id) != PROFILE_KIND:
        raise NotFoundError(
            f"no profile record {request.profile_id[:12]} is stored on this server",
            hint="store the profile record first",
        )
    store = _store(ctx)
    store.remember_profile(data_version, request.profile_id, now_ms())
    return DataProfile(data_version=data_version, profile_id=store.profile_of(data_version) or "")


def drift_report(
    ctx: Context,
    name: Name,
    version: Number,
    reference: Annotated[
        str | None,
        Query(
            pattern=ID_PREFIX_PATTERN,
            description="A data version id or profile id (default: the profiled training input "
            "of the run that made the model)",
        ),
    ] = None,
    since_ms: Annotated[int | None, Query(ge=0, le=MAX_TIME_MS)] = None,
    min_rows: Annotated[int, Query(ge=1, le=1_000_000)] = 100,
) -> DriftBody:
    """Compare the inputs logged while serving a model version with its training profile."""
    if reference is not None:  # resolved to a stored profile here: never read as a file
        reference = _store(ctx).profile_of(reference) or ctx.workspace.records.resolve(
            reference, kind=PROFILE_KIND
        )
    since = None if since_ms is None else dt.datetime.fromtimestamp(since_ms / 1000, dt.UTC)
    report = monitor_api.drift(
        f"{name}/{version}",
        reference=reference,
        since=since,
        min_rows=min_rows,
        workspace=ctx.workspace,
    )
    return DriftBody.model_validate(report.to_dict())


_MODEL = (Scope.MODEL, "name")
R, W = Role.READER, Role.WRITER

ROUTES = (
    Route(
        "POST",
        "/models/{name}/predictions",
        W,
        append_predictions,
        "Log a model's predictions",
        _MODEL,
        response_model=Stored,
    ),
    Route(
        "GET",
        "/models/{name}/predictions",
        R,
        logged_predictions,
        "Read a model's logged predictions",
        _MODEL,
        response_model=LoggedPage,
    ),
    Route(
        "GET",
        "/models/{name}/versions/{version}/drift",
        R,
        drift_report,
        "Check a model version for drift",
        _MODEL,
        response_model=DriftBody,
        costly=True,
    ),
    Route(
        "POST",
        "/models/{name}/labels",
        W,
        store_labels,
        "Keep labels of a model's predictions",
        _MODEL,
        response_model=LabelReceiptBody,
    ),
    Route(
        "GET",
        "/models/{name}/labels",
        R,
        labelled_predictions,
        "Read a model's labelled predictions",
        _MODEL,
        response_model=LabelledPage,
    ),
    Route(
        "POST",
        "/models/{name}/versions/{version}/performance",
        W,
        record_performance,
        "Keep a model version's performance check",
        _MODEL,
        response_model=Stored,
    ),
    Route(
        "GET",
        "/models/{name}/versions/{version}/performance",
        R,
        performance_history,
        "Read a model version's performance checks",
        _MODEL,
        response_model=PerformanceHistory,
    ),
    Route(
        "GET",
        "/profiles/{data_version}",
        R,
        get_profile,
        "Get a data version's profile",
        response_model=DataProfile,
    ),
    Route(
        "PUT",
        "/profiles/{data_version}",
        W,
        remember_profile,
        "Keep a data version's profile",
        response_model=DataProfile,
    ),
)
