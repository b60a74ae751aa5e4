"""``--verify``: an import checked against its source, count by count, and a sample of metric
histories point by point. A check returns a report; the CLI turns differences into exit 1."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from parity.migrate.mlflow import naming
from parity.migrate.mlflow.importer import STATUSES, Selection
from parity.migrate.mlflow.source import MlflowRun, MlflowSource

if TYPE_CHECKING:
    from parity.core.run import RunView
    from parity.tracking.store import RunStore

# Runs whose every metric history is compared point by point (spread over the selection).
SAMPLE_RUNS = 10


@dataclass(frozen=True)
class Difference:
    """One thing the Parity side has otherwise than the source."""

    run: str | None  # the MLflow run id, or None for a whole-import count
    what: str
    source: Any
    parity: Any

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "what": self.what, "source": self.source, "parity": self.parity}


@dataclass(frozen=True)
class VerifyReport:
    checked: dict[str, int] = field(default_factory=dict)  # counts on the source side
    differences: tuple[Difference, ...] = ()
    sampled_runs: int = 0

    @property
    def ok(self) -> bool:
        return not self.differences

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": dict(self.checked),
            "sampled_runs": self.sampled_runs,
            "differences": [d.to_dict() for d in self.differences],
        }


def _sample(runs: Sequence[MlflowRun], size: int) -> set[str]:
    if len(runs) <= size:
        return {run.id for run in runs}
    step = len(runs) / size
    return {runs[int(i * step)].id for i in range(size)}


def _history_key(point: tuple[str, float | None, int, int]) -> tuple[str, int, int, float]:
    key, value, step, stamp = point
    return key, step, stamp, -math.inf if value is None else value


def verify_import(
    source: MlflowSource, runs: RunStore, selection: Selection, sample: int = SAMPLE_RUNS
) -> VerifyReport:
    """Compare every selected run's params, tags, status, times, metric point count and
    artifacts with what Parity holds, and the full metric histories of ``sample`` runs."""
    differences: list[Difference] = []
    checked = dict.fromkeys(("runs", "params", "tags", "metric_points", "artifacts"), 0)
    sampled = _sample(selection.runs, sample)
    ids = [selection.parity_ids[run.id] for run in selection.runs]
    views = {view.id: view for view in runs.views(ids)}
    for run in selection.runs:
        checked["runs"] += 1
        view = views.get(selection.parity_ids[run.id])
        if view is None:
            differences.append(Difference(run.id, "run", "present", "missing"))
            continue
        differences += _compare_run(run, view, checked)
        differences += _compare_metrics(source, runs, run, view, run.id in sampled, checked)
        differences += _compare_artifacts(source, run, view, checked)
    return VerifyReport(checked, tuple(differences), len(sampled))


def _compare_run(run: MlflowRun, view: RunView, checked: dict[str, int]) -> list[Difference]:
    found = []
    checked["params"] += len(run.params)
    checked["tags"] += len(run.tags)
    params = {naming.key(k): naming.value(v) for k, v in run.params.items()}
    if dict(view.params) != params:
        found.append(Difference(run.id, "params", len(params), len(view.params)))
    tags = {naming.key(k): naming.value(v) for k, v in run.tags.items()}
    tags |= dict(naming.dataset_tag(d) for d in run.inputs)
    theirs = {k: v for k, v in view.tags.items() if k not in naming.IMPORT_TAGS}
    if theirs != tags:
        changed = sorted(set(tags.items()) ^ set(theirs.items()))[:3]
        found.append(Difference(run.id, "tags", len(tags), f"{len(theirs)} ({changed})"))
    status = STATUSES.get(run.status.upper())
    if status is not None and view.status is not status:
        found.append(Difference(run.id, "status", run.status, str(view.status)))
    if run.start_ms is not None and view.start_ms != run.start_ms:
        found.append(Difference(run.id, "start time", run.start_ms, view.start_ms))
    if status is not None and run.end_ms is not None and view.end_ms != run.end_ms:
        found.append(Difference(run.id, "end time", run.end_ms, view.end_ms))
    if view.name != run.name:
        found.append(Difference(run.id, "name", run.name, view.name))
    return found


def _compare_metrics(
    source: MlflowSource,
    runs: RunStore,
    run: MlflowRun,
    view: RunView,
    whole: bool,
    checked: dict[str, int],
) -> list[Difference]:
    points = [
        (p.key, None if p.value != p.value else p.value, p.step, p.timestamp_ms)
        for p in source.metric_history(run.id)
    ]
    checked["metric_points"] += len(points)
    stored = runs.count_metric_points(view.id)
    if stored != len(points):
        return [Difference(run.id, "metric points", len(points), stored)]
    if not whole:
        return []
    found = []
    for key in sorted({p[0] for p in points}):
        theirs = sorted(
            ((m.key, m.value, m.step, m.timestamp_ms) for m in runs.metric_history(view.id, key)),
            key=_history_key,
        )
        ours = sorted((p for p in points if p[0] == key), key=_history_key)
        if theirs != ours:
            found.append(Difference(run.id, f"history of {key}", len(ours), len(theirs)))
    return found


def _compare_artifacts(
    source: MlflowSource, run: MlflowRun, view: RunView, checked: dict[str, int]
) -> list[Difference]:
    ours = {(a.path, a.size) for a in source.artifacts(run)}
    checked["artifacts"] += len(ours)
    theirs = {(a.path, a.size) for a in view.artifacts if a.kind == "file"}
    if ours != theirs:
        missing = sorted(ours - theirs)[:3]
        return [Difference(run.id, "artifacts", len(ours), f"{len(theirs)} (missing {missing})")]
    return []
