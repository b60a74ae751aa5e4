"""Experiment tracking over REST: ``RunStore``'s methods as routes, for ``RemoteRunStore``.

Runs are named by their whole id (clients resolve prefixes with ``GET /runs/ids``); metric
batches travel as JSON columns (``tracking.columns``) with a key each, so a batch sent twice is
stored once; searches take the filter language of ``parity runs list`` and page with an opaque
cursor. A run is made under its experiment's path, so a grant on that experiment counts there;
a write records the caller as the run's user.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import orjson
from fastapi import Query
from pydantic import Field
from starlette.responses import Response

from parity.core.launch import Launch
from parity.core.roles import Role, Scope
from parity.core.run import RUN_ID_PATTERN, DataLink, Metric, RunStatus, RunView, number_to_json
from parity.core.run import Artifact as ArtifactRecord
from parity.core.run_filter import parse_filter, parse_sort
from parity.server.context import ServerContext
from parity.server.dependencies import Caller, Context
from parity.server.routing import Route
from parity.server.run_schemas import (
    KIND_PATTERN,
    PREFIX_PATTERN,
    TEXT_PATTERN,
    ArtifactIn,
    ArtifactOut,
    Artifacts,
    Counts,
    DataLinks,
    DigestPath,
    ExperimentName,
    ExperimentOut,
    Experiments,
    History,
    Keys,
    MetricBatch,
    MetricCounts,
    MetricKey,
    NewRun,
    Params,
    PointCount,
    RunCreated,
    RunId,
    RunIds,
    RunOut,
    RunsPage,
    RunUpdate,
    Seeds,
    ShortIds,
    Tags,
)
from parity.tracking.columns import bucket_columns, history_columns, points_of
from parity.tracking.downsample import (
    MAX_BUCKETS,
    columns_between,
    downsample_columns,
    steps_between,
)
from parity.tracking.store import MAX_PAGE, RunStore


# handlers -------------------------------------------------------------------------------------
def _store(ctx: ServerContext) -> RunStore:
    store = ctx.workspace.runs
    assert isinstance(store, RunStore)  # a server's workspace is embedded: its stores are SQL
    return store


def _json(document: Any) -> Response:
    return Response(orjson.dumps(document), media_type="application/json")


def _run_document(view: RunView) -> dict[str, Any]:
    document = view.to_dict()
    document["metrics"] = {k: number_to_json(v) for k, v in view.metrics.items()}
    return document


def list_experiments(ctx: Context) -> Experiments:
    """Every experiment, with how many runs it holds."""
    return Experiments(
        experiments=[ExperimentOut(**e.to_dict()) for e in _store(ctx).experiments()]
    )


def create_run(
    experiment: ExperimentName, body: NewRun, ctx: Context, principal: Caller
) -> RunCreated:
    """Start a run in an experiment; the caller is its user. A request sent again with the
    same ``run_id`` returns that run."""
    run_id = _store(ctx).create(
        experiment=experiment,
        name=body.name,
        user=principal.user,
        host=body.host,
        command=body.command,
        parent_id=body.parent_id,
        code_id=body.code_id,
        environment_id=body.environment_id,
        run_id=body.run_id,
        launch=None if body.launch is None else Launch.from_dict(body.launch.model_dump()),
    )
    return RunCreated(run_id=run_id)


def _search(
    ctx: ServerContext,
    experiment: str | None,
    filter_text: str | None,
    sort: list[str] | None,
    limit: int,
    deleted: bool,
    cursor: str | None,
) -> Response:
    page = _store(ctx).search_page(
        experiment=experiment,
        expression=parse_filter(filter_text or ""),
        sort=[parse_sort(key) for key in sort or ()],
        limit=limit,
        deleted=deleted,
        cursor=cursor,
    )
    return _json({"runs": [_run_document(v) for v in page.runs], "cursor": page.cursor})


FilterText = Annotated[
    str | None,
    Query(alias="filter", max_length=10_000, description="e.g. metrics.acc > 0.9"),
]
SortKeys = Annotated[list[str] | None, Query(max_length=20, description="KEY or -KEY, repeatable")]
Limit = Annotated[int, Query(ge=1, le=MAX_PAGE)]
Cursor = Annotated[str | None, Query(max_length=4000, pattern=r"^[A-Za-z0-9_-]*$")]


def search_runs(
    ctx: Context,
    experiment: Annotated[str | None, Query(max_length=200, pattern=TEXT_PATTERN)] = None,
    filter_text: FilterText = None,
    sort: SortKeys = None,
    limit: Limit = 100,
    deleted: bool = False,
    cursor: Cursor = None,
) -> Response:
    """Runs matching a filter, newest first or sorted, a page at a time."""
    return _search(ctx, experiment, filter_text, sort, limit, deleted, cursor)


def search_experiment_runs(
    experiment: ExperimentName,
    ctx: Context,
    filter_text: FilterText = None,
    sort: SortKeys = None,
    limit: Limit = 100,
    deleted: bool = False,
    cursor: Cursor = None,
) -> Response:
    """The runs of one experiment matching a filter, a page at a time."""
    return _search(ctx, experiment, filter_text, sort, limit, deleted, cursor)


def run_ids_starting(
    ctx: Context,
    prefix: Annotated[str, Query(pattern=PREFIX_PATTERN)],
    limit: Annotated[int, Query(ge=1, le=100)] = 6,
) -> RunIds:
    """The run ids that start with a prefix (the client decides what it names)."""
    return RunIds(run_ids=_store(ctx).ids_starting(prefix, limit))


def short_run_ids(
    ctx: Context,
    run_ids: Annotated[
        list[Annotated[str, Field(pattern=RUN_ID_PATTERN)]],
        Query(alias="id", min_length=1, max_length=200),
    ],
) -> ShortIds:
    """Each run id with the shortest prefix no other run starts with."""
    return ShortIds(short_ids=_store(ctx).short_ids(run_ids))


def run_keys(ctx: Context) -> Keys:
    """The metric, param and tag keys some run has."""
    return Keys(**_store(ctx).keys())


def count_runs(ctx: Context) -> Counts:
    """How many runs there are in each status."""
    return Counts(counts=_store(ctx).count_by_status())


def get_run(run_id: RunId, ctx: Context) -> Response:
    """A run with its params, latest metrics, tags, code, data and artifacts."""
    return _json(_run_document(_store(ctx).get(run_id)))


def update_run(run_id: RunId, body: RunUpdate, ctx: Context) -> None:
    """End a run (status, exit code, end time) or attach its code state and environment."""
    store = _store(ctx)
    if body.code_id or body.environment_id:
        store.set_sources(run_id, body.code_id, body.environment_id)
    if body.status is not None:
        store.end(run_id, RunStatus(body.status), body.exit_code, end_ms=body.end_ms)
    elif not body.code_id and not body.environment_id:
        store.require(run_id)


def delete_run(run_id: RunId, ctx: Context) -> None:
    """Hide a run from lists and searches (restorable)."""
    _store(ctx).delete(run_id)


def restore_run(run_id: RunId, ctx: Context) -> None:
    """Bring a deleted run back."""
    _store(ctx).restore(run_id)


def log_run_params(run_id: RunId, body: Params, ctx: Context) -> None:
    """Log params; a param logged again must keep its value (409 otherwise)."""
    store = _store(ctx)
    store.require(run_id)
    store.log_params(run_id, body.params)


def log_run_seeds(run_id: RunId, body: Seeds, ctx: Context) -> None:
    """Log the seeds a run set (a seed logged again takes the new value)."""
    store = _store(ctx)
    store.require(run_id)
    store.log_seeds(run_id, body.seeds)


def set_run_tags(run_id: RunId, body: Tags, ctx: Context) -> None:
    """Set tags (a tag set again takes the new value)."""
    store = _store(ctx)
    store.require(run_id)
    store.set_tags(run_id, body.tags)


def log_run_metrics(run_id: RunId, body: MetricBatch, ctx: Context) -> PointCount:
    """Store a batch of metric points, once however often the same batch key is sent."""
    store = _store(ctx)
    store.require(run_id)
    points: list[Metric] = points_of(body.model_dump())
    store.log_metrics(run_id, points, body.batch)
    return PointCount(points=len(points))


def count_run_points(run_id: RunId, ctx: Context) -> MetricCounts:
    """How many metric points the run holds, every series together and each on its own."""
    store = _store(ctx)
    store.require(run_id)
    by_key = store.metric_point_counts(run_id)
    return MetricCounts(points=sum(by_key.values()), by_key=by_key)


def metric_history(
    run_id: RunId,
    key: MetricKey,
    ctx: Context,
    buckets: Annotated[int | None, Query(ge=1, le=MAX_BUCKETS)] = None,
    min_step: Annotated[int | None, Query(description="the first step wanted")] = None,
    max_step: Annotated[int | None, Query(description="the last step wanted")] = None,
) -> Response:
    """Every point of one metric by step, or that series in N buckets keeping each bucket's
    min, max and last value (a chart's view of a long series); ``min_step`` and ``max_step``
    keep the points of one range (a zoomed chart's), so few enough come back whole."""
    store = _store(ctx)
    store.require(run_id)
    document: dict[str, Any] = {"key": key, "points": None, "buckets": None}
    if buckets is None:
        points = steps_between(store.metric_history(run_id, key), min_step, max_step)
        document.update(count=len(points), points=history_columns(points))
    else:  # a chart's read: columns, without a Python object per point
        series = columns_between(store.metric_columns(run_id, key), min_step, max_step)
        document.update(
            count=len(series), buckets=bucket_columns(downsample_columns(series, buckets))
        )
    return _json(document)


def add_run_data(run_id: RunId, body: DataLinks, ctx: Context) -> None:
    """Record data versions the run read (input) or wrote (output)."""
    store = _store(ctx)
    store.require(run_id)
    store.add_data(run_id, body.direction, [DataLink(x.path, x.data_version) for x in body.links])


def list_run_artifacts(run_id: RunId, ctx: Context) -> Artifacts:
    """The files and models the run produced."""
    found = _store(ctx).artifacts(run_id)
    return Artifacts(artifacts=[ArtifactOut(**a.to_dict()) for a in found])


def add_run_artifact(run_id: RunId, body: ArtifactIn, ctx: Context) -> None:
    """Record an artifact of the run: a stored object's digest or a record's id, at a path."""
    store = _store(ctx)
    store.require(run_id)
    store.add_artifact(run_id, ArtifactRecord(body.path, body.kind, body.digest, body.size))


def runs_that_logged_artifact(
    digest: DigestPath,
    ctx: Context,
    kind: Annotated[str, Query(pattern=KIND_PATTERN)],
) -> RunIds:
    """The runs (not deleted) that logged an artifact, oldest first."""
    return RunIds(run_ids=_store(ctx).runs_that_logged(digest, kind))


def runs_that_read_data(
    data_version: DigestPath,
    ctx: Context,
    direction: Annotated[Literal["input", "output"], Query()] = "input",
) -> RunIds:
    """The runs (not deleted) that read a data version (``direction=output``: that wrote
    it), oldest first."""
    store = _store(ctx)
    if direction == "output":
        return RunIds(run_ids=store.runs_that_wrote(data_version))
    return RunIds(run_ids=store.runs_that_read(data_version))


READ, WRITE = Role.READER, Role.WRITER
IN_EXPERIMENT = (Scope.EXPERIMENT, "experiment")

# Fixed paths before the ones with a {run_id}: the first route that matches a path serves it.
ROUTES = (
    Route("GET", "/experiments", READ, list_experiments, "List experiments",
          response_model=Experiments),
    Route("GET", "/experiments/{experiment}/runs", READ, search_experiment_runs,
          "Search an experiment's runs", scope=IN_EXPERIMENT, response_model=RunsPage),
    Route("POST", "/experiments/{experiment}/runs", WRITE, create_run, "Start a run",
          scope=IN_EXPERIMENT, response_model=RunCreated, status_code=201),
    Route("GET", "/runs", READ, search_runs, "Search runs", response_model=RunsPage),
    Route("GET", "/runs/ids", READ, run_ids_starting, "Find run ids by prefix",
          response_model=RunIds),
    Route("GET", "/runs/short-ids", READ, short_run_ids, "Shorten run ids",
          response_model=ShortIds),
    Route("GET", "/runs/keys", READ, run_keys, "List metric, param and tag keys",
          response_model=Keys),
    Route("GET", "/runs/counts", READ, count_runs, "Count runs by status",
          response_model=Counts),
    Route("GET", "/runs/{run_id}", READ, get_run, "Get a run", response_model=RunOut),
    Route("PATCH", "/runs/{run_id}", WRITE, update_run, "End a run or attach its sources",
          status_code=204),
    Route("DELETE", "/runs/{run_id}", WRITE, delete_run, "Delete a run", status_code=204),
    Route("POST", "/runs/{run_id}/restore", WRITE, restore_run, "Restore a deleted run",
          status_code=204),
    Route("POST", "/runs/{run_id}/params", WRITE, log_run_params, "Log params",
          status_code=204),
    Route("POST", "/runs/{run_id}/tags", WRITE, set_run_tags, "Set tags", status_code=204),
    Route("POST", "/runs/{run_id}/seeds", WRITE, log_run_seeds, "Log seeds", status_code=204),
    Route("POST", "/runs/{run_id}/metrics", WRITE, log_run_metrics, "Log a batch of metrics",
          response_model=PointCount),
    Route("GET", "/runs/{run_id}/metrics/count", READ, count_run_points,
          "Count a run's metric points", response_model=MetricCounts),
    Route("GET", "/runs/{run_id}/metrics/{key:path}/history", READ, metric_history,
          "Read a metric's history", response_model=History),
    Route("POST", "/runs/{run_id}/data", WRITE, add_run_data, "Record data inputs or outputs",
          status_code=204),
    Route("GET", "/runs/{run_id}/artifacts", READ, list_run_artifacts, "List a run's artifacts",
          response_model=Artifacts),
    Route("POST", "/runs/{run_id}/artifacts", WRITE, add_run_artifact, "Record an artifact",
          status_code=204),
    Route("GET", "/artifacts/{digest}/runs", READ, runs_that_logged_artifact,
          "Find the runs that logged an artifact", response_model=RunIds),
    Route("GET", "/data/versions/{data_version}/runs", READ, runs_that_read_data,
          "Find the runs that read or wrote a data version", response_model=RunIds),
)  # fmt: skip
