"""Parity runs and model versions written into MLflow, so a team can leave as easily as it came.

A run goes with the runs it is nested in, and a model version with the run that logged it.

Each exported MLflow run carries the tag ``parity.run_id``; the tag ``parity.export`` is set to
``complete`` only after everything else, so a second export skips what is there and an interrupted
one deletes its partial run and writes it again. Model versions carry ``parity.version``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.core.errors import ParityError, UsageError
from parity.core.model import ModelVersion
from parity.core.run import RunView
from parity.migrate.mlflow_export.mlmodel import mlmodel_text, requirements_text
from parity.migrate.mlflow_export.rest_writer import MlflowRunRef, MlflowWriter
from parity.registry.loading import read_model_record, safe_relative
from parity.registry.repository import ModelRegistry
from parity.store.records import RecordStore
from parity.tracking.repository import RunRepository

RUN_TAG = "parity.run_id"
DONE_TAG = "parity.export"
VERSION_TAG = "parity.version"
MODEL_KIND = "model"
# MLflow keeps a param value of at most this many characters (Parity: 8,000); a longer one is
# refused rather than cut short without a word.
MLFLOW_PARAM_LIMIT = 6000
# MLflow's status words for Parity's.
STATUS = {"running": "RUNNING", "finished": "FINISHED", "failed": "FAILED", "killed": "KILLED"}

Progress = Callable[[str, int, int], None]


def _quiet(_kind: str, _done: int, _total: int) -> None:
    pass


@dataclass
class ExportCounts:
    runs: int = 0
    runs_already_there: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    inputs: int = 0
    artifacts: int = 0
    artifact_bytes: int = 0
    model_versions: int = 0
    model_versions_already_there: int = 0
    aliases: int = 0

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class ExportResult:
    target: str
    counts: ExportCounts = field(default_factory=ExportCounts)
    runs: dict[str, str] = field(default_factory=dict)  # Parity run id -> MLflow run id
    versions: dict[str, str] = field(default_factory=dict)  # "name/3" -> MLflow version
    failed: list[tuple[str, str]] = field(default_factory=list)  # (what, why)

    @property
    def ok(self) -> bool:
        return not self.failed

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "counts": self.counts.to_dict(),
            "runs": dict(self.runs),
            "versions": dict(self.versions),
            "failed": [{"what": what, "error": why} for what, why in self.failed],
        }


class MlflowExport:
    """One export into one MLflow server: runs first (parents before children), then models."""

    def __init__(
        self,
        runs: RunRepository,
        registry: ModelRegistry,
        records: RecordStore,
        writer: MlflowWriter,
        *,
        target: str,
        progress: Progress = _quiet,
    ) -> None:
        self.runs = runs
        self.registry = registry
        self.records = records
        self.writer = writer
        self.progress = progress
        self.result = ExportResult(target)
        self._experiments: dict[str, str] = {}
        self._exported: dict[str, MlflowRunRef] = {}  # by Parity run id

    def export(self, run_ids: Sequence[str], model_names: Sequence[str]) -> ExportResult:
        versions = [v for name in model_names for v in self.registry.versions(name)]
        wanted = list(dict.fromkeys([*run_ids, *(v.run_id for v in versions if v.run_id)]))
        views = _parents_first(self._with_parents(self.runs.views(wanted)))
        for done, view in enumerate(views, start=1):
            try:
                self._export_run(view)
            except ParityError as exc:
                self.result.failed.append((f"run {view.id}", exc.message))
            except OSError as exc:  # a local artifact folder it could not write: say, go on
                self.result.failed.append((f"run {view.id}", f"{exc.strerror}: {exc.filename}"))
            self.progress("runs", done, len(views))
        for name in model_names:
            try:
                self._export_model(name, [v for v in versions if v.name == name])
            except ParityError as exc:
                self.result.failed.append((f"model {name}", exc.message))
        return self.result

    # runs ----------------------------------------------------------------------------------
    def _with_parents(self, views: list[RunView]) -> list[RunView]:
        """``views`` and every run they are nested in, so MLflow shows the same nesting."""
        found = {view.id: view for view in views}
        missing = {v.parent_id for v in views if v.parent_id and v.parent_id not in found}
        while missing:
            for parent in self.runs.views(sorted(missing)):
                found[parent.id] = parent
            missing = {
                v.parent_id for v in found.values() if v.parent_id and v.parent_id not in found
            }
            missing &= {p for p in missing if self.runs.exists(p)}
        return list(found.values())

    def _experiment(self, name: str) -> str:
        if name not in self._experiments:
            self._experiments[name] = self.writer.experiment_id(name)
        return self._experiments[name]

    def _export_run(self, view: RunView) -> None:
        counts = self.result.counts
        experiment = self._experiment(view.experiment)
        found = self.writer.find_runs(experiment, RUN_TAG, view.id)
        done = next((r for r in found if r.tags.get(DONE_TAG) == "complete"), None)
        if done is not None:
            self.result.runs[view.id] = done.run_id
            self._exported[view.id] = done
            counts.runs_already_there += 1
            return
        existing = next((r for r in found if not r.deleted), None)
        too_long = sorted(k for k, v in view.params.items() if len(v) > MLFLOW_PARAM_LIMIT)
        if too_long:
            raise UsageError(
                f"param {too_long[0]!r} is longer than the {MLFLOW_PARAM_LIMIT:,} characters "
                "MLflow keeps",
                hint="shorten it in Parity, or keep this run in Parity only",
            )
        if existing is not None:  # an export that stopped halfway: write it again, whole
            self.writer.delete_run(existing.run_id)
        run = self.writer.create_run(
            experiment,
            name=view.name,
            start_ms=view.start_ms,
            user=view.user,
            tags={RUN_TAG: view.id},
        )
        tags = self._tags(view)
        self.writer.log_batch(run.run_id, params=view.params, tags=tags)
        counts.params += len(view.params)
        counts.tags += len(tags)
        for key in sorted(view.metrics):
            points = self.runs.metric_history(view.id, key)
            self.writer.log_batch(
                run.run_id, metrics=[(key, p.value, p.step, p.timestamp_ms) for p in points]
            )
            counts.metric_points += len(points)
        self.writer.log_inputs(run.run_id, [(link.path, link.data_version) for link in view.inputs])
        counts.inputs += len(view.inputs)
        for artifact in view.artifacts:
            if artifact.kind == MODEL_KIND:
                self._upload_model(run, artifact.path, artifact.digest)
            else:
                self._upload_object(run, artifact.path, artifact.digest, artifact.size)
            counts.artifacts += 1
        self.writer.end_run(run.run_id, STATUS.get(str(view.status), "FINISHED"), view.end_ms)
        # Last: a run is skipped by the next export only once everything else is written.
        self.writer.log_batch(run.run_id, tags={DONE_TAG: "complete"})
        if view.deleted:  # deleted in Parity (a version's run): deleted in MLflow too
            self.writer.delete_run(run.run_id)
        self.result.runs[view.id] = run.run_id
        self._exported[view.id] = run
        counts.runs += 1

    def _tags(self, view: RunView) -> dict[str, str]:
        # The export's own tags are never taken from the run (a run imported from an export, or
        # a user's tag of that name, would otherwise make duplicates or look finished).
        ours = (RUN_TAG, DONE_TAG)
        tags = {k: v for k, v in view.tags.items() if not k.startswith("mlflow.") and k not in ours}
        tags["mlflow.user"] = view.user
        if view.name:
            tags["mlflow.runName"] = view.name
        code = view.code or {}
        if code.get("commit"):
            tags["mlflow.source.git.commit"] = str(code["commit"])
        if code.get("branch"):
            tags["mlflow.source.git.branch"] = str(code["branch"])
        if code.get("repo_url"):
            tags["mlflow.source.git.repoURL"] = str(code["repo_url"])
        if view.command:
            tags["mlflow.source.name"] = view.command[0]
        if view.environment_id:
            tags["parity.environment_id"] = view.environment_id
        if view.parent_id:
            parent = self.result.runs.get(view.parent_id)
            tags["mlflow.parentRunId" if parent else "parity.parent_run_id"] = (
                parent or view.parent_id
            )
        return tags

    def _upload_object(self, run: MlflowRunRef, path: str, digest: str, size: int | None) -> None:
        with tempfile.TemporaryDirectory(prefix="parity-export-") as scratch:
            local = Path(scratch) / "artifact"
            self.records.objects.get_to_file(digest, local, size)
            with local.open("rb") as content:
                self.writer.upload_artifact(run, _artifact_path(path), content)
            self.result.counts.artifact_bytes += local.stat().st_size

    def _upload_model(self, run: MlflowRunRef, path: str, model_id: str) -> None:
        record = read_model_record(self.records, model_id)
        root = _artifact_path(path)
        for file in record.files:
            target = f"{root}/{safe_relative(file.path).as_posix()}"
            self._upload_object(run, target, file.digest, file.size)
        mlmodel = mlmodel_text(record, root, run.run_id)
        if mlmodel is not None:
            self._upload_text(run, f"{root}/MLmodel", mlmodel)
            self._upload_text(run, f"{root}/requirements.txt", requirements_text(record))

    def _upload_text(self, run: MlflowRunRef, path: str, text: str) -> None:
        with tempfile.TemporaryFile() as content:
            content.write(text.encode())
            content.seek(0)
            self.writer.upload_artifact(run, path, content)

    # model versions ------------------------------------------------------------------------
    def _export_model(self, name: str, versions: Iterable[ModelVersion]) -> None:
        counts = self.result.counts
        self.writer.ensure_registered_model(name, None)
        there = {
            str(v.get("tags_by_key", {}).get(VERSION_TAG, "")): str(v["version"])
            for v in _with_tag_map(self.writer.model_versions(name))
        }
        for version in sorted(versions, key=lambda v: v.version):
            ref = version.ref
            if str(version.version) in there:
                self.result.versions[ref] = there[str(version.version)]
                counts.model_versions_already_there += 1
            else:
                self.result.versions[ref] = self._create_version(version)
                counts.model_versions += 1
            for alias in version.aliases:
                try:
                    self.writer.set_alias(name, alias, self.result.versions[ref])
                    counts.aliases += 1
                except ParityError as exc:  # an alias MLflow reserves (v2) or refuses
                    self.result.failed.append((f"alias {name}@{alias}", exc.message))

    def _create_version(self, version: ModelVersion) -> str:
        run = self._exported.get(version.run_id or "")
        logged = self.runs.artifacts(version.run_id) if run is not None and version.run_id else []
        artifact = next((a for a in logged if a.digest == version.model_id), None)
        if run is None or artifact is None:
            raise _Unexportable(version)
        return self.writer.create_model_version(
            version.name,
            source=f"{run.artifact_uri}/{_artifact_path(artifact.path)}",
            run_id=run.run_id,
            description=version.description,
            tags={VERSION_TAG: str(version.version), "parity.model_id": version.model_id},
        )


class _Unexportable(ParityError):
    def __init__(self, version: ModelVersion) -> None:
        super().__init__(
            f"{version.ref} has no run that logged it, so MLflow has nowhere to keep its files",
            hint="export versions a run logged: run.log_model(..., registered_model_name=NAME)",
        )


def _artifact_path(path: str) -> str:
    return safe_relative(path).as_posix()


def _with_tag_map(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for version in versions:
        version["tags_by_key"] = {t["key"]: t.get("value", "") for t in version.get("tags", [])}
    return versions


def _parents_first(views: Sequence[RunView]) -> list[RunView]:
    """Runs ordered so that a parent comes before its children (then by start time)."""
    by_id = {view.id: view for view in views}

    def depth(view: RunView) -> int:
        level, parent, seen = 0, view.parent_id, set()
        while parent in by_id and parent not in seen:
            seen.add(parent)
            level, parent = level + 1, by_id[parent].parent_id
        return level

    return sorted(views, key=lambda v: (depth(v), v.start_ms, v.id))
