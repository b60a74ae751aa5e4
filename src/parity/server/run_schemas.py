"""The request and response bodies of the tracking routes (``routes_runs``), as pydantic
models: what the OpenAPI description shows, and what a request must match before a handler runs.
Ids and digests are hex of fixed lengths, keys and names follow ``parity.core.run``'s rules, and
no text may hold a NUL (PostgreSQL refuses it).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from parity.core.run import EXPERIMENT_PATTERN, KEY_PATTERN, RUN_ID_PATTERN

DIGEST_PATTERN = r"^[0-9a-f]{64}$"
BATCH_PATTERN = r"^[0-9a-f]{32}$"
PREFIX_PATTERN = r"^[0-9a-f]{4,64}$"
KIND_PATTERN = r"^[a-z][a-z0-9_-]{0,31}$"
# Text the databases store as it is: no NUL (PostgreSQL refuses it in text).
TEXT_PATTERN = r"^[^\x00]*$"
MAX_POINTS = 1_000_000  # per batch; the body limit (16 MiB) comes first for most batches
INT64 = 2**63

RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN, description="A run's whole id")]
ExperimentName = Annotated[str, Path(pattern=EXPERIMENT_PATTERN, max_length=200)]
MetricKey = Annotated[str, Path(pattern=KEY_PATTERN, max_length=250)]
DigestPath = Annotated[str, Path(pattern=DIGEST_PATTERN)]

Key = Annotated[str, Field(pattern=KEY_PATTERN, max_length=250)]
Value = Annotated[str, Field(pattern=TEXT_PATTERN, max_length=8000)]
Name = Annotated[str, Field(pattern=TEXT_PATTERN, max_length=200)]
PathText = Annotated[str, Field(pattern=TEXT_PATTERN, min_length=1, max_length=4096)]
Digest = Annotated[str, Field(pattern=DIGEST_PATTERN)]
RunIdField = Annotated[str, Field(pattern=RUN_ID_PATTERN)]
Int64 = Annotated[int, Field(ge=-INT64, lt=INT64)]
Number = float | Literal["inf", "-inf"] | None


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# requests -------------------------------------------------------------------------------------
class Launched(_Body):
    """Where a run started and the numerics variables it saw (``core.launch.Launch``)."""

    format: int = Field(1, ge=1, le=1)
    cwd: Annotated[str, Field(pattern=TEXT_PATTERN, max_length=4096)]
    in_repository: bool
    variables: dict[
        Annotated[str, Field(pattern=TEXT_PATTERN, max_length=250)],
        Annotated[str, Field(pattern=TEXT_PATTERN, max_length=8000)],
    ] = Field(default_factory=dict, max_length=200)


class Seeds(_Body):
    seeds: dict[Key, Value] = Field(max_length=1_000)


class NewRun(_Body):
    run_id: RunIdField | None = Field(
        None, description="Chosen by the client, so that sending the request again is safe"
    )
    name: Name | None = None
    host: Name | None = None
    command: list[Annotated[str, Field(pattern=TEXT_PATTERN, max_length=8000)]] = Field(
        default_factory=list, max_length=10_000
    )
    parent_id: RunIdField | None = None
    code_id: Digest | None = None
    environment_id: Digest | None = None
    launch: Launched | None = None


class RunUpdate(_Body):
    status: Literal["finished", "failed", "killed"] | None = Field(None, description="Ends the run")
    exit_code: Annotated[int, Field(ge=-(2**31), lt=2**31)] | None = None
    end_ms: Annotated[int, Field(ge=0, lt=INT64)] | None = None
    code_id: Digest | None = None
    environment_id: Digest | None = None


class Params(_Body):
    params: dict[Key, Value] = Field(max_length=10_000)


class Tags(_Body):
    tags: dict[Key, Value] = Field(max_length=10_000)


class Series(_Body):
    key: Key
    steps: list[Int64] = Field(max_length=MAX_POINTS)
    timestamps: list[Int64] = Field(max_length=MAX_POINTS)
    values: list[Number] = Field(max_length=MAX_POINTS)


class MetricBatch(_Body):
    """Points as columns: ``series`` (one object per key), or the flat ``keys``, ``values``,
    ``steps`` and ``timestamps`` (one entry per point). ``batch`` is the idempotency key."""

    batch: Annotated[str, Field(pattern=BATCH_PATTERN)]
    series: list[Series] | None = Field(None, max_length=10_000)
    keys: list[Key] | None = Field(None, max_length=MAX_POINTS)
    values: list[Number] | None = Field(None, max_length=MAX_POINTS)
    steps: list[Int64] | None = Field(None, max_length=MAX_POINTS)
    timestamps: list[Int64] | None = Field(None, max_length=MAX_POINTS)


class Link(_Body):
    path: PathText
    data_version: Digest


class DataLinks(_Body):
    direction: Literal["input", "output"]
    links: list[Link] = Field(max_length=10_000)


class ArtifactIn(_Body):
    path: PathText
    kind: Annotated[str, Field(pattern=KIND_PATTERN)]
    digest: Digest
    size: Annotated[int, Field(ge=0, lt=INT64)] | None = None


# responses ------------------------------------------------------------------------------------
class ExperimentOut(BaseModel):
    name: str
    created_ms: int
    runs: int


class Experiments(BaseModel):
    experiments: list[ExperimentOut]


class RunCreated(BaseModel):
    run_id: str


class LinkOut(BaseModel):
    path: str
    data_version: str


class ArtifactOut(BaseModel):
    path: str
    kind: str
    digest: str
    size: int | None


class RunOut(BaseModel):
    format: int
    id: str
    experiment: str
    name: str | None
    status: Literal["running", "finished", "failed", "killed"]
    start_ms: int
    end_ms: int | None
    user: str
    host: str | None
    command: list[str]
    params: dict[str, str]
    metrics: dict[str, Number]
    tags: dict[str, str]
    code: dict[str, Any] | None
    environment_id: str | None
    inputs: list[LinkOut]
    outputs: list[LinkOut]
    artifacts: list[ArtifactOut]
    parent_id: str | None
    exit_code: int | None
    deleted: bool
    launch: dict[str, Any] | None = None
    seeds: dict[str, str] = Field(default_factory=dict)
    reproduces: str | None = None


class RunsPage(BaseModel):
    runs: list[RunOut]
    cursor: str | None = Field(description="Pass it back for the next page; null at the end")


class RunIds(BaseModel):
    run_ids: list[str]


class ShortIds(BaseModel):
    short_ids: dict[str, str]


class Keys(BaseModel):
    metrics: list[str]
    params: list[str]
    tags: list[str]


class Counts(BaseModel):
    counts: dict[str, int]


class PointCount(BaseModel):
    points: int


class MetricCounts(PointCount):
    by_key: dict[str, int]  # each metric's own count


class Artifacts(BaseModel):
    artifacts: list[ArtifactOut]


class PointColumns(BaseModel):
    steps: list[int]
    timestamps: list[int]
    values: list[Number]


class BucketColumns(BaseModel):
    first_steps: list[int]
    last_steps: list[int]
    counts: list[int]
    min: list[Number]
    max: list[Number]
    last: list[Number]
    last_timestamps: list[int]


class History(BaseModel):
    key: str
    count: int = Field(description="Points in the whole series")
    points: PointColumns | None = Field(description="Every point, when no buckets were asked")
    buckets: BucketColumns | None = Field(
        description="Equal shares of the points, each with its min, max and last value"
    )
