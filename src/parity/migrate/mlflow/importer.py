"""The MLflow importer: every run of the chosen experiments written into Parity's stores.

It reads through an ``MlflowSource`` (any reader) and writes through the run store, the object
store and the record store, in this order per run: the run (with MLflow's id-derived Parity id
and its start time), params, tags, dataset inputs, metric histories in batches of thousands of
points, artifacts (content-addressed: the same bytes are stored once), the end (status and end
time), and last the ``mlflow.import.done`` tag. Every step is idempotent (a param set again to
the same value, tags upserted, metric batches keyed, artifacts by path), so a run whose import
was cut short is completed by the next import, and a run marked done is skipped.

After the runs, the registry step (``import_registry``) brings registered models, versions
and aliases.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from parity.core.errors import NotFoundError
from parity.core.run import Artifact, CodeState, Metric, RunStatus, strip_credentials
from parity.migrate.mlflow import naming
from parity.migrate.mlflow.counts import ImportCounts
from parity.migrate.mlflow.models_import import import_models
from parity.migrate.mlflow.source import MlflowExperiment, MlflowRun, MlflowSource
from parity.registry.repository import Actor
from parity.registry.versions import Registry
from parity.store.objects.store import LARGE_FILE
from parity.tracking.records import store_code_state

if TYPE_CHECKING:
    from parity.store.objects.store import ObjectStore
    from parity.store.records import RecordStore
    from parity.tracking.store import RunStore

# Points per metric write: one transaction, one chunk per key.
BATCH_POINTS = 50_000
# How many runs are looked up at once to find those a previous import finished.
LOOKUP_PAGE = 500
STATUSES = {
    "FINISHED": RunStatus.FINISHED,
    "FAILED": RunStatus.FAILED,
    "KILLED": RunStatus.KILLED,
}  # RUNNING and SCHEDULED runs stay running

Progress = Callable[[int, int], None]


def no_progress(_done: int, _total: int) -> None:
    """The default: report nothing."""


@dataclass(frozen=True)
class ImportOptions:
    """What to import: MLflow experiments by name (default: every active one), runs started at
    or after ``since_ms``; ``dry_run`` counts without writing."""

    experiments: tuple[str, ...] = ()
    since_ms: int | None = None
    dry_run: bool = False


@dataclass
class ImportTarget:
    """The stores an import writes into (an embedded workspace's)."""

    runs: RunStore
    objects: ObjectStore
    records: RecordStore
    clock: Callable[[], int]
    scratch: Path  # where an artifact too large to hold in memory is spooled
    user: str = naming.UNKNOWN_USER
    registry: Registry | None = None  # None: the registry step is skipped
    actor: Actor | None = None  # who the registry's audit trail says imported it


@dataclass(frozen=True)
class Selection:
    """The source's experiments and runs an import covers, and the Parity id of each run."""

    experiments: Mapping[str, MlflowExperiment]  # by MLflow id
    runs: tuple[MlflowRun, ...]
    parity_ids: Mapping[str, str] = field(default_factory=dict)  # MLflow run id -> Parity id


def select_runs(source: MlflowSource, options: ImportOptions) -> Selection:
    """The experiments named (or every active one) and their runs since ``since_ms``."""
    every = list(source.experiments())
    if options.experiments:
        by_name = {e.name: e for e in every}
        unknown = [n for n in options.experiments if n not in by_name]
        if unknown:
            known = ", ".join(sorted(by_name)) or "none"
            raise NotFoundError(
                f"{source.description} has no experiment {unknown[0]!r}",
                hint=f"its experiments: {known}",
            )
        chosen = [by_name[n] for n in options.experiments]
    else:
        chosen = [e for e in every if e.lifecycle_stage == "active"]
    runs = tuple(source.runs([e.id for e in chosen], options.since_ms))
    return Selection(
        {e.id: e for e in chosen}, runs, {run.id: naming.parity_run_id(run) for run in runs}
    )


def import_runs(
    source: MlflowSource,
    target: ImportTarget,
    options: ImportOptions = ImportOptions(),
    progress: Progress = no_progress,
) -> tuple[ImportCounts, Selection]:
    """Import the selected runs; returns the counts and what was selected."""
    selection = select_runs(source, options)
    done = finished_imports(target.runs, selection)
    counts = ImportCounts()
    used = {r.experiment_id for r in selection.runs}
    counts = counts.plus(experiments=len(used))
    total = len(selection.runs)
    progress(0, total)
    for index, run in enumerate(selection.runs, start=1):
        if run.id in done:
            counts = counts.plus(runs_skipped=1)
        else:
            counts = _import_run(source, target, selection, run, options.dry_run, counts)
        progress(index, total)
    return counts, selection


def finished_imports(runs: RunStore, selection: Selection) -> set[str]:
    """MLflow ids of the selected runs that an earlier import finished."""
    finished = set()
    pairs = [(run.id, selection.parity_ids[run.id]) for run in selection.runs]
    for start in range(0, len(pairs), LOOKUP_PAGE):
        page = dict(pairs[start : start + LOOKUP_PAGE])
        views = {view.id: view for view in runs.views(list(page.values()))}
        for mlflow_id, parity_id in page.items():
            view = views.get(parity_id)
            if view is not None and naming.DONE_TAG in view.tags:
                finished.add(mlflow_id)
    return finished


def _import_run(
    source: MlflowSource,
    target: ImportTarget,
    selection: Selection,
    run: MlflowRun,
    dry_run: bool,
    counts: ImportCounts,
) -> ImportCounts:
    parity_id = selection.parity_ids[run.id]
    params = {naming.key(k): naming.value(v) for k, v in run.params.items()}
    tags = {naming.key(k): naming.value(v) for k, v in run.tags.items()}
    datasets = dict(naming.dataset_tag(d) for d in run.inputs)
    counts = counts.plus(
        runs=1, params=len(run.params), tags=len(run.tags), datasets=len(run.inputs)
    )
    if dry_run:
        points = sum(1 for _ in source.metric_history(run.id))
        listed = list(source.artifacts(run))
        return counts.plus(
            metric_points=points,
            artifacts=len(listed),
            artifact_bytes=sum(a.size or 0 for a in listed),
        )
    experiment = selection.experiments[run.experiment_id]
    parent = run.parent_id
    start_ms = run.start_ms if run.start_ms is not None else (run.end_ms or 0)
    target.runs.create(
        run_id=parity_id,
        experiment=naming.experiment_name(experiment),
        name=run.name,
        user=run.user or naming.UNKNOWN_USER,
        host=None,
        command=[],
        parent_id=selection.parity_ids.get(parent) if parent else None,
        code_id=_code_state(target, run, start_ms),
        start_ms=start_ms,
    )
    own = {naming.RUN_ID_TAG: run.id, naming.EXPERIMENT_ID_TAG: run.experiment_id}
    target.runs.set_tags(parity_id, {**tags, **datasets, **own})
    target.runs.log_params(parity_id, params)
    points = _import_metrics(source, target.runs, run, parity_id)
    stored, size = _import_artifacts(source, target, run, parity_id)
    status = STATUSES.get(run.status.upper())
    if status is not None:
        end_ms = run.end_ms if run.end_ms is not None else start_ms
        target.runs.end(parity_id, status, end_ms=end_ms)
    if run.lifecycle_stage == "deleted":
        target.runs.delete(parity_id)
    target.runs.set_tags(parity_id, {naming.DONE_TAG: str(target.clock())})
    return counts.plus(metric_points=points, artifacts=stored, artifact_bytes=size)


def _code_state(target: ImportTarget, run: MlflowRun, created_ms: int) -> str | None:
    """The run's git commit (``mlflow.source.git.commit``) as a code state without a diff."""
    commit = run.git_commit
    if not commit:
        return None
    repo = run.tags.get("mlflow.source.git.repoURL")
    state = CodeState(
        repo_url=strip_credentials(repo) if repo else None,
        commit=commit,
        branch=run.tags.get("mlflow.source.git.branch"),
        dirty=False,
        diff_digest=None,
    )
    return store_code_state(target.records, state, created_ms)


def metric_batches(source: MlflowSource, run_id: str) -> Iterator[list[Metric]]:
    """The run's metric history in batches of ``BATCH_POINTS``, NaN as None (Parity's NaN).

    A reader with ``metric_rows`` (the SQL reader) hands over its driver's rows, which are
    turned into points in one pass: at millions of points an object less per point is a third
    of the import's time."""
    rows_of: Callable[[str], Sequence[tuple[str, float, int, int, bool]]] | None = getattr(
        source, "metric_rows", None
    )
    if rows_of is not None:
        make = Metric
        points = [
            make(key, None if is_nan or value != value else value, step, stamp)
            for key, value, step, stamp, is_nan in rows_of(run_id)
        ]
        for start in range(0, len(points), BATCH_POINTS):
            yield points[start : start + BATCH_POINTS]
        return
    batch: list[Metric] = []
    append = batch.append
    for point in source.metric_history(run_id):
        number = point.value
        append(
            Metric(point.key, None if number != number else number, point.step, point.timestamp_ms)
        )
        if len(batch) >= BATCH_POINTS:
            yield batch
            batch = []
            append = batch.append
    if batch:
        yield batch


def _import_metrics(source: MlflowSource, runs: RunStore, run: MlflowRun, parity_id: str) -> int:
    written = 0
    for index, batch in enumerate(metric_batches(source, run.id)):
        runs.log_metrics(parity_id, batch, naming.batch_key(run.id, index))
        written += len(batch)
    return written


def _import_artifacts(
    source: MlflowSource, target: ImportTarget, run: MlflowRun, parity_id: str
) -> tuple[int, int]:
    stored = size = 0
    for artifact in source.artifacts(run):
        digest, length = _store(source, target, run, artifact.path, artifact.size)
        target.runs.add_artifact(parity_id, Artifact(artifact.path, "file", digest, length))
        stored += 1
        size += length
    return stored, size


def _store(
    source: MlflowSource, target: ImportTarget, run: MlflowRun, path: str, size: int | None
) -> tuple[str, int]:
    """Store one artifact's bytes (once, by digest): small ones from memory, large ones
    spooled to a scratch file the object store then hashes and compresses as it streams."""
    with source.open_artifact(run, path) as stream:
        if size is not None and size < LARGE_FILE:
            content = stream.read()
            return target.objects.put_bytes(content), len(content)
        target.scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.scratch, prefix=".mlflow-") as spool:
            shutil.copyfileobj(stream, spool, 1 << 20)
            spool.flush()
            length = spool.tell()
            return target.objects.put_file(Path(spool.name)), length


def import_registry(
    source: MlflowSource, target: ImportTarget, selection: Selection, dry_run: bool
) -> Mapping[str, int]:
    """The registry step, after the runs: registered models, their versions (with the files of
    the logged models behind them), aliases (stages as aliases), descriptions and tags. A dry
    run counts the models and versions the source holds."""
    if dry_run:  # counted from the source's registry alone: the model files are not read
        models = source.registered_models()
        added = present = 0
        for model in models:
            there: set[int] = set()
            if target.registry is not None:
                with contextlib.suppress(NotFoundError):
                    there = {v.version for v in target.registry.versions(model.name)}
            for version in source.model_versions(model.name):
                if int(version.version) in there:
                    present += 1
                else:
                    added += 1
        return {"models": len(models), "versions_added": added, "versions_present": present}
    if target.registry is None or target.actor is None:
        return {}
    counts = import_models(
        source,
        records=target.records,
        registry=target.registry,
        actor=target.actor,
        run_ids=selection.parity_ids,
        now_ms=target.clock,
    )
    return {str(k): int(v) for k, v in counts.to_dict().items()}


def import_mlflow_source(
    source: MlflowSource,
    target: ImportTarget,
    options: ImportOptions = ImportOptions(),
    progress: Progress = no_progress,
) -> ImportCounts:
    """Runs, then the registry: the whole import, its counts by kind."""
    counts, selection = import_runs(source, target, options, progress)
    registry = import_registry(source, target, selection, options.dry_run)
    return ImportCounts.from_dict({**counts.to_dict(), "registry": registry})


__all__: Sequence[str] = (
    "ImportOptions",
    "ImportTarget",
    "Selection",
    "import_mlflow_source",
    "import_registry",
    "import_runs",
    "select_runs",
)
