"""Experiments, the runs table of one experiment, one run, and runs compared. Each page's view
(filter, sort, columns, selected runs, chart options) is in its query string."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Query, Request
from starlette.responses import Response, StreamingResponse

from parity.api import environments as environments_api
from parity.api import runs as runs_api
from parity.core.errors import NotFoundError, ParityError, UsageError
from parity.core.model import ArtifactFile
from parity.core.roles import Role, Scope
from parity.core.run import Metric, RunView
from parity.core.run_filter import FilterError, parse_filter, parse_sort
from parity.env.records import describe
from parity.ui.page import ExperimentName, Page, RunReference, Viewer, WorkspaceOf
from parity.ui.templating import SECURITY_HEADERS, render

PAGE_SIZE = 50
DEFAULT_COLUMNS = 3
MAX_COMPARED = 10

Text = Annotated[str, Query(max_length=10_000)]
Keys = Annotated[list[str], Query(max_length=50)]
Cursor = Annotated[str | None, Query(max_length=4000, pattern=r"^[A-Za-z0-9_-]*$")]
# A zoomed chart's x range, in the x axis's units (steps, or Unix seconds on x=time).
Bound = Annotated[float | None, Query(allow_inf_nan=False)]


def experiments(request: Request, ws: WorkspaceOf, viewer: Viewer) -> Response:
    """Every experiment, with how many runs it holds."""
    found = sorted(ws.runs.experiments(), key=lambda e: e.created_ms, reverse=True)
    return render(request, "experiments.html", viewer, experiments=found)


def runs_table(
    request: Request,
    experiment: ExperimentName,
    ws: WorkspaceOf,
    viewer: Viewer,
    filter: Text = "",
    sort: Annotated[str, Query(max_length=300)] = "",
    cursor: Cursor = None,
    param: Keys = [],  # noqa: B006 (FastAPI copies a default)
    metric: Keys = [],  # noqa: B006
) -> Response:
    """One experiment's runs: filtered, sorted, a page at a time, with chosen columns (by
    default the first params and metrics of the runs shown)."""
    held = {e.name: e.runs for e in ws.runs.experiments()}
    if experiment not in held:
        raise NotFoundError(f"no experiment {experiment!r}", hint="see the experiments on /")
    error: dict[str, Any] | None = None
    page_runs: tuple[RunView, ...] = ()
    following: str | None = None
    try:
        expression = parse_filter(filter)
        order = [parse_sort(sort)] if sort else []
        page = ws.runs.search_page(
            experiment=experiment, expression=expression, sort=order, limit=PAGE_SIZE,
            cursor=cursor,
        )  # fmt: skip
        page_runs, following = page.runs, page.cursor
    except FilterError as failure:
        error = {"message": failure.message, "hint": failure.hint, "position": failure.position}
    except UsageError as failure:
        error = {"message": failure.message, "hint": failure.hint, "position": None}
    # The keys of the runs on this page (not of every run: that is a scan of all of them).
    keys = {
        "params": sorted({k for r in page_runs for k in r.params} | set(param)),
        "metrics": sorted({k for r in page_runs for k in r.metrics} | set(metric)),
    }
    # How many runs match, where it is known without a count of its own: every run of the
    # experiment when unfiltered, or a filter's one and only page.
    total: int | None = None
    if error is None and not filter:
        total = held[experiment]
    elif error is None and cursor is None and following is None:
        total = len(page_runs)
    params = param or keys["params"][:DEFAULT_COLUMNS]
    metrics = metric or keys["metrics"][:DEFAULT_COLUMNS]
    view = {"filter": filter, "sort": sort, "param": param, "metric": metric}
    # An example in this experiment's own keys, not in keys it may not have.
    example = [f"metrics.{keys['metrics'][0]} > 0.5"] if keys["metrics"] else []
    example += [f"params.{keys['params'][0]} = '…'"] if keys["params"] else []
    placeholder = " and ".join(example) or "attributes.status = 'finished'"
    return render(
        request, "runs.html", viewer, experiment=experiment, runs=page_runs, view=view,
        params=params, metrics=metrics, all_keys=keys, error=error, next_cursor=following,
        cursor=cursor, short=_short_ids(ws, page_runs), placeholder=placeholder, total=total,
    )  # fmt: skip


def _short_ids(ws: Any, found: tuple[RunView, ...] | list[RunView]) -> dict[str, str]:
    return ws.runs.short_ids([r.id for r in found]) if found else {}


def run_page(
    request: Request,
    run_id: RunReference,
    ws: WorkspaceOf,
    viewer: Viewer,
    x: Annotated[str, Query(pattern="^(step|time)$")] = "step",
    log: bool = False,
    smooth: Annotated[float, Query(ge=0, lt=1)] = 0.0,
    xmin: Bound = None,
    xmax: Bound = None,
) -> Response:
    """One run: params, tags, metric charts (zoomed to ``xmin``..``xmax`` when given),
    inputs, code, environment, artifacts, lineage."""
    run = runs_api.get(run_id, workspace=ws)
    diff = None
    code = run.code or {}
    if code.get("dirty") and code.get("diff_digest"):
        raw = ws.objects.get_bytes(str(code["diff_digest"]))
        diff = raw[:200_000].decode("utf-8", "replace").splitlines()
    chart = {"x": x, "log": log, "smooth": smooth, "zoom": _zoom(xmin, xmax)}
    summary = None
    if run.environment_id:
        summary = describe(environments_api.get(run.environment_id, workspace=ws))
    # A metric of one point is a number, not a chart; its point says at which step.
    single: dict[str, Metric] = {}
    for key, count in ws.runs.metric_point_counts(run.id).items():
        points = ws.runs.metric_history(run.id, key) if count == 1 else []
        if points:
            single[key] = points[0]
    return render(
        request, "run.html", viewer, run=run, diff=diff, chart=chart,
        metric_keys=sorted(k for k in run.metrics if k not in single),
        single_metrics=sorted(single.values(), key=lambda m: m.key),
        models=_models_of(ws, run.id), env_summary=summary,
        model_files=_model_files(ws, run),
    )  # fmt: skip


def _zoom(xmin: float | None, xmax: float | None) -> tuple[float, float] | None:
    """The charts' zoomed x range from the address, which a drag on a chart put there."""
    if xmin is None and xmax is None:
        return None
    if xmin is None or xmax is None or not xmin < xmax:
        raise UsageError(
            "a zoomed range needs xmin below xmax",
            hint="drag across a chart to zoom, or drop xmin and xmax from the address",
        )
    return (xmin, xmax)


def _model_files(ws: Any, run: RunView) -> dict[str, list[ArtifactFile]]:
    """The files of each model the run logged, each downloadable on its own."""
    found: dict[str, list[ArtifactFile]] = {}
    for artifact in run.artifacts:
        if artifact.kind == "model":
            try:
                found[artifact.path] = runs_api.artifact_files(run.id, artifact.path, workspace=ws)
            except ParityError:  # its record is missing: the page says so rather than fail
                found[artifact.path] = []
    return found


def artifact_download(
    run_id: RunReference,
    ws: WorkspaceOf,
    path: Annotated[str, Query(max_length=1000)],
    file: Annotated[str | None, Query(max_length=1000)] = None,
) -> Response:
    """An artifact's original bytes, as a download named after its file: a file artifact, or
    one file (``file``) of a model artifact. Both names are looked up among what the run
    recorded, never joined to a storage path."""
    files = runs_api.artifact_files(run_id, path, workspace=ws)
    wanted = path if file is None else file
    chosen = next((f for f in files if f.path == wanted), None)
    if chosen is None:
        raise NotFoundError(
            f"artifact {path!r} has no file {wanted!r}",
            hint="pick one of its files on the run's page",
        )
    blocks = runs_api.read_artifact(chosen, workspace=ws)
    first = next(blocks, None)  # a missing object is refused as a page, before any byte goes
    headers = {
        **SECURITY_HEADERS,
        "Content-Disposition": _attachment(chosen.path.rsplit("/", 1)[-1]),
    }
    if chosen.size >= 0:
        headers["Content-Length"] = str(chosen.size)
    return StreamingResponse(
        _held_back(first, blocks), media_type="application/octet-stream", headers=headers
    )


def _held_back(first: bytes | None, rest: Iterator[bytes]) -> Iterator[bytes]:
    """Each block once the next one was read, so the last goes only after the digest matched:
    a corrupt object's download stops short of its Content-Length (or its last chunk), which
    a browser reports as a failed download instead of saving a wrong file."""
    held = first
    for block in rest:
        if held is not None:
            yield held
        held = block
    if held is not None:
        yield held


def _attachment(name: str) -> str:
    """A Content-Disposition for ``name``: a plain-ASCII fallback and the exact UTF-8 name."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in name
    )
    exact = quote(name, safe="")
    return f"attachment; filename=\"{fallback or 'artifact'}\"; filename*=UTF-8''{exact}"


def _models_of(ws: Any, run_id: str) -> list[Any]:
    """The model versions registered from this run (its lineage downstream)."""
    found: list[Any] = []
    for model in ws.registry.models():
        found.extend(v for v in ws.registry.versions(model["name"]) if v.run_id == run_id)
    return found


def compare_page(
    request: Request,
    ws: WorkspaceOf,
    viewer: Viewer,
    # Bounded loosely here, so that ticking too many gets the handler's words, not a schema's.
    run: Annotated[list[str], Query(max_length=200)] = [],  # noqa: B006
    all: bool = False,
    xmin: Bound = None,
    xmax: Bound = None,
) -> Response:
    """2 to 10 runs side by side: differing params and metrics (or all), overlaid charts, and
    the rated environment diff of each run against the first."""
    if not 2 <= len(run) <= MAX_COMPARED:
        raise UsageError(
            f"compare 2 to {MAX_COMPARED} runs, not {len(run)}",
            hint="tick the runs to compare in a runs table",
        )
    comparison = runs_api.compare(run, workspace=ws)
    shown = {
        "params": [r for r in comparison.params if all or r.differs],
        "metrics": [r for r in comparison.metrics if all or r.differs],
        "inputs": [r for r in comparison.inputs if all or r.differs],
    }
    common = sorted(set.intersection(*(set(r.metrics) for r in comparison.runs)))
    short = _short_ids(ws, list(comparison.runs))
    return render(
        request, "compare.html", viewer, comparison=comparison, shown=shown, all=all,
        runs=comparison.runs, common_metrics=common, view={"run": run, "all": all},
        chart={"zoom": _zoom(xmin, xmax)},
        short=short, labels=[r.name or short[r.id] for r in comparison.runs],
    )  # fmt: skip


PAGES = (
    Page("GET", "/", Role.READER, experiments, "Show the experiments"),
    Page("GET", "/experiments/{experiment}", Role.READER, runs_table, "Show an experiment's runs",
         scope=(Scope.EXPERIMENT, "experiment")),
    Page("GET", "/runs/{run_id}", Role.READER, run_page, "Show a run"),
    Page("GET", "/runs/{run_id}/artifact", Role.READER, artifact_download,
         "Download a run's artifact"),
    Page("GET", "/compare", Role.READER, compare_page, "Compare runs"),
)  # fmt: skip
