"""Read an MLflow file store (``./mlruns`` or ``file:///…/mlruns``) as an MlflowSource.

The layout, as MLflow's FileStore writes it: ``<experiment id>/meta.yaml`` and ``tags/``; runs in
``<experiment id>/<run id>/`` with ``meta.yaml``, one file per param, tag and metric (a metric
file holds one ``timestamp value step`` line per logged point), ``inputs/<id>/meta.yaml`` linking
to ``<experiment id>/datasets/<id>/meta.yaml``, and ``artifacts/``; deleted experiments under
``.trash/``; registered models under ``models/<name>/`` with ``version-N/``, ``tags/`` and
``aliases/``. Keys holding ``/`` are nested folders. Logged models of MLflow 3 live in
``<experiment id>/models/<model id>/artifacts``.

Everything read is bounded in size, YAML is read with the safe loader, and no path the store's
content names is followed outside the store's root.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO
from urllib.parse import unquote, urlparse

from parity.core.errors import NotFoundError, StorageError, UsageError
from parity.core.paths import is_contained
from parity.migrate.mlflow.source import (
    MlflowArtifact,
    MlflowDatasetInput,
    MlflowExperiment,
    MlflowMetricPoint,
    MlflowModelVersion,
    MlflowRegisteredModel,
    MlflowRun,
)

META = "meta.yaml"
TRASH = ".trash"
MODELS = "models"
# A meta.yaml, param, tag or dataset description is small in any real store; a larger one is
# refused rather than read into memory.
MAX_META_BYTES = 4 * 1024 * 1024
MAX_VALUE_BYTES = 1024 * 1024
MAX_METRIC_LINE = 4096
# MLflow's RunStatus numbers, as the file store writes them.
RUN_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
DELETED = "deleted"
# The file store marks a deleted model version with this stage instead of removing it.
DELETED_VERSION_STAGE = "Deleted_Internal"


def store_root(uri: str) -> Path:
    """The local folder of ``file:///…/mlruns`` or a plain path."""
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost"):
            raise UsageError(
                f"cannot read {uri}: a file URI on host {parsed.netloc!r}",
                hint="mount the store and give its local path",
            )
        return Path(unquote(parsed.path))
    if parsed.scheme and len(parsed.scheme) > 1:  # a drive letter is no scheme
        raise UsageError(f"{uri} is not an MLflow file store", hint="give ./mlruns or file:///…")
    return Path(uri)


class FileStoreSource:
    """An MlflowSource over a local MLflow file store (also an MlflowModelFiles)."""

    def __init__(self, uri: str) -> None:
        root = store_root(uri)
        if not root.is_dir():
            raise NotFoundError(
                f"no MLflow file store at {root}", hint="give the folder that holds meta.yaml files"
            )
        self.root = root.resolve()
        self.description = uri
        self._experiment_dirs: dict[str, Path] = {}

    # paths -------------------------------------------------------------------------------------
    def _inside(self, path: Path, what: str) -> Path:
        """``path`` resolved, if it stays under the store's root (symbolic links followed)."""
        resolved = path.resolve()
        if resolved != self.root and not resolved.is_relative_to(self.root):
            raise UsageError(
                f"{what} points outside the MLflow store: {path}",
                hint=f"only files under {self.root} are read; move the store back together "
                "or import from a copy whose locations stay inside it",
            )
        return resolved

    def _child(self, parent: Path, relative: str, what: str) -> Path:
        if not is_contained(relative):
            raise UsageError(
                f"{what} {relative!r} is not a plain relative path",
                hint="an MLflow store never names '..' or absolute paths here; "
                "the store may have been tampered with",
            )
        return self._inside(parent / relative, what)

    def _location(self, uri: str | None, fallback: Path, what: str) -> Path:
        """A ``file:`` location named in the store, kept inside the root.

        A store copied or moved keeps the absolute locations of where it was made; when those
        lie outside the root and the conventional folder exists here, that folder is read.
        """
        if not uri:
            return self._inside(fallback, what)
        parsed = urlparse(uri)
        if parsed.scheme not in ("", "file"):
            raise UsageError(
                f"{what} is {uri}, which the file store reader cannot read",
                hint="import through the MLflow server (http://…) that serves those artifacts",
            )
        raw = unquote(parsed.path) if parsed.scheme == "file" else uri
        if ".." in Path(raw).parts:
            raise UsageError(f"{what} {uri!r} contains '..'", hint="the store may be tampered with")
        path = Path(raw) if Path(raw).is_absolute() else self.root / raw
        resolved = path.resolve()
        if resolved == self.root or resolved.is_relative_to(self.root):
            return resolved
        if fallback.exists():
            return self._inside(fallback, what)
        return self._inside(path, what)  # raises: outside the root, and nothing here instead

    # reading -----------------------------------------------------------------------------------
    def _read(self, path: Path, limit: int) -> bytes:
        path = self._inside(path, "store file")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            raise StorageError(
                f"{path} is larger than {limit} bytes, too large for an MLflow store file",
                hint="check the store is an MLflow file store and not damaged",
            )
        return data

    def _text(self, path: Path, limit: int = MAX_VALUE_BYTES) -> str:
        return self._read(path, limit).decode("utf-8")

    def _yaml(self, path: Path) -> dict[str, Any]:
        import yaml  # lazy: only a file store import reads YAML

        try:
            document = yaml.safe_load(self._read(path, MAX_META_BYTES))
        except yaml.YAMLError as exc:
            raise StorageError(f"cannot read {path}: {exc}", hint="the store is damaged") from exc
        if not isinstance(document, dict):
            raise StorageError(f"{path} holds no mapping", hint="the store is damaged")
        return document

    def _values(self, folder: Path) -> dict[str, str]:
        """One file per key (``a/b`` keys nested as folders) -> its text."""
        if not folder.is_dir():
            return {}
        found = {}
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                key = path.relative_to(folder).as_posix()
                found[key] = self._text(self._inside(path, f"value {key!r}"))
        return found

    # experiments -------------------------------------------------------------------------------
    def _experiment_folders(self) -> Iterator[tuple[Path, bool]]:
        for base, trashed in ((self.root, False), (self.root / TRASH, True)):
            if not base.is_dir():
                continue
            for folder in sorted(base.iterdir()):
                if folder.name in (TRASH, MODELS) or folder.name.startswith("."):
                    continue
                if folder.is_dir() and (folder / META).is_file():
                    yield folder, trashed

    def experiments(self) -> Sequence[MlflowExperiment]:
        found = []
        for folder, trashed in self._experiment_folders():
            meta = self._yaml(folder / META)
            experiment_id = str(meta.get("experiment_id", folder.name))
            self._experiment_dirs[experiment_id] = folder
            stage = DELETED if trashed else str(meta.get("lifecycle_stage") or "active")
            found.append(
                MlflowExperiment(
                    id=experiment_id,
                    name=str(meta.get("name", "")),
                    artifact_location=_text_or_none(meta.get("artifact_location")),
                    lifecycle_stage=stage,
                    created_ms=_int_or_none(meta.get("creation_time")),
                    tags=self._values(folder / "tags"),
                )
            )
        return found

    def _experiment_dir(self, experiment_id: str) -> Path:
        if not self._experiment_dirs:
            self.experiments()
        folder = self._experiment_dirs.get(experiment_id)
        if folder is None:
            raise NotFoundError(f"{self.description} has no experiment {experiment_id}")
        return folder

    # runs --------------------------------------------------------------------------------------
    def runs(
        self, experiment_ids: Sequence[str], since_ms: int | None = None
    ) -> Iterator[MlflowRun]:
        for experiment_id in experiment_ids:
            folder = self._experiment_dir(experiment_id)
            for run_dir in sorted(folder.iterdir()):
                if not (run_dir / META).is_file() or run_dir.name in ("datasets", MODELS, "tags"):
                    continue
                run = self._run(folder, run_dir)
                if since_ms is None or (run.start_ms is not None and run.start_ms >= since_ms):
                    yield run

    def _run(self, experiment_dir: Path, run_dir: Path) -> MlflowRun:
        meta = self._yaml(run_dir / META)
        run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name)
        tags = self._values(run_dir / "tags")
        status = meta.get("status")
        name = _text_or_none(meta.get("run_name")) or tags.get("mlflow.runName")
        return MlflowRun(
            id=run_id,
            experiment_id=str(meta.get("experiment_id", experiment_dir.name)),
            name=name,
            status=RUN_STATUS.get(status, str(status)) if isinstance(status, int) else str(status),
            start_ms=_int_or_none(meta.get("start_time")),
            end_ms=_int_or_none(meta.get("end_time")),
            user=_text_or_none(meta.get("user_id")),
            lifecycle_stage=str(meta.get("lifecycle_stage") or "active"),
            artifact_uri=_text_or_none(meta.get("artifact_uri")),
            params=self._values(run_dir / "params"),
            tags=tags,
            inputs=tuple(self._inputs(experiment_dir, run_dir)),
        )

    def _inputs(self, experiment_dir: Path, run_dir: Path) -> Iterator[MlflowDatasetInput]:
        folder = run_dir / "inputs"
        if not folder.is_dir():
            return
        for entry in sorted(folder.iterdir()):
            if not (entry / META).is_file():
                continue
            link = self._yaml(entry / META)
            if link.get("source_type") != "DATASET":
                continue
            dataset_id = str(link.get("source_id", ""))
            dataset_dir = self._child(experiment_dir / "datasets", dataset_id, "dataset id")
            dataset = self._yaml(dataset_dir / META)
            tags = link.get("tags") or {}
            yield MlflowDatasetInput(
                name=str(dataset.get("name", "")),
                digest=str(dataset.get("digest", "")),
                source_type=str(dataset.get("source_type", "")),
                source=str(dataset.get("source", "")),
                schema=_text_or_none(dataset.get("schema")),
                profile=_text_or_none(dataset.get("profile")),
                context=_text_or_none(tags.get("mlflow.data.context")),
            )

    def _run_dir(self, run_id: str) -> Path:
        if not is_contained(run_id) or "/" in run_id:
            raise UsageError(f"{run_id!r} is not an MLflow run id")
        if not self._experiment_dirs:
            self.experiments()
        for folder in self._experiment_dirs.values():
            if (folder / run_id / META).is_file():
                return folder / run_id
        raise NotFoundError(f"{self.description} has no run {run_id}")

    def metric_history(self, run_id: str) -> Iterator[MlflowMetricPoint]:
        folder = self._run_dir(run_id) / "metrics"
        if not folder.is_dir():
            return
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                key = path.relative_to(folder).as_posix()
                yield from self._points(self._inside(path, f"metric {key!r}"), key)

    def _points(self, path: Path, key: str) -> Iterator[MlflowMetricPoint]:
        with open(path, "rb") as handle:
            while line := handle.readline(MAX_METRIC_LINE + 1):
                if len(line) > MAX_METRIC_LINE:
                    raise StorageError(
                        f"metric file {path} has a line over {MAX_METRIC_LINE} bytes",
                        hint="the store is damaged",
                    )
                parts = line.split()
                if not parts:
                    continue
                try:
                    timestamp, value = int(parts[0]), float(parts[1])
                    step = int(parts[2]) if len(parts) > 2 else 0
                except (ValueError, IndexError) as exc:
                    raise StorageError(
                        f"cannot read metric line {line[:80]!r} of {path}",
                        hint="each line is 'timestamp value step'",
                    ) from exc
                yield MlflowMetricPoint(key=key, value=value, step=step, timestamp_ms=timestamp)

    # artifacts ---------------------------------------------------------------------------------
    def _artifact_root(self, run: MlflowRun) -> Path:
        conventional = self._run_dir(run.id) / "artifacts"
        return self._location(run.artifact_uri, conventional, f"artifact location of run {run.id}")

    def artifacts(self, run: MlflowRun) -> Iterator[MlflowArtifact]:
        yield from _files_under(self, self._artifact_root(run))

    def open_artifact(self, run: MlflowRun, path: str) -> BinaryIO:
        return self._open_under(self._artifact_root(run), path)

    def _open_under(self, root: Path, path: str) -> BinaryIO:
        target = self._child(root, path, "artifact path")
        if not target.is_file():
            raise NotFoundError(f"no artifact {path} in {self.description}")
        return open(target, "rb")

    # registry ----------------------------------------------------------------------------------
    def _model_dirs(self) -> Iterator[Path]:
        folder = self.root / MODELS
        if folder.is_dir():
            for model_dir in sorted(folder.iterdir()):
                if (model_dir / META).is_file():
                    yield model_dir

    def registered_models(self) -> Sequence[MlflowRegisteredModel]:
        found = []
        for model_dir in self._model_dirs():
            meta = self._yaml(model_dir / META)
            aliases = {k: v.strip() for k, v in self._values(model_dir / "aliases").items()}
            if not aliases and isinstance(meta.get("aliases"), Mapping):
                aliases = {str(k): str(v) for k, v in meta["aliases"].items()}
            found.append(
                MlflowRegisteredModel(
                    name=str(meta.get("name", model_dir.name)),
                    created_ms=_int_or_none(meta.get("creation_timestamp")),
                    updated_ms=_int_or_none(meta.get("last_updated_timestamp")),
                    description=_text_or_none(meta.get("description")),
                    tags=self._values(model_dir / "tags"),
                    aliases=aliases,
                )
            )
        return found

    def _model_dir(self, name: str) -> Path:
        for model_dir in self._model_dirs():
            if str(self._yaml(model_dir / META).get("name", model_dir.name)) == name:
                return model_dir
        raise NotFoundError(f"{self.description} has no registered model {name!r}")

    def _version_metas(self, name: str) -> Iterator[tuple[Path, dict[str, Any]]]:
        model_dir = self._model_dir(name)
        for folder in model_dir.iterdir():
            if folder.name.startswith("version-") and (folder / META).is_file():
                meta = self._yaml(folder / META)
                if meta.get("current_stage") != DELETED_VERSION_STAGE:
                    yield folder, meta

    def model_versions(self, name: str) -> Sequence[MlflowModelVersion]:
        found = []
        for folder, meta in self._version_metas(name):
            stage = _text_or_none(meta.get("current_stage"))
            found.append(
                MlflowModelVersion(
                    name=name,
                    version=str(meta.get("version", folder.name.removeprefix("version-"))),
                    created_ms=_int_or_none(meta.get("creation_timestamp")),
                    updated_ms=_int_or_none(meta.get("last_updated_timestamp")),
                    user=_text_or_none(meta.get("user_id")),
                    description=_text_or_none(meta.get("description")),
                    source=_text_or_none(meta.get("source")),
                    run_id=_text_or_none(meta.get("run_id")),
                    status=_text_or_none(meta.get("status")),
                    stage=None if stage in (None, "None") else stage,
                    tags=self._values(folder / "tags"),
                )
            )
        return sorted(found, key=lambda v: int(v.version) if v.version.isdigit() else 0)

    # model files (MlflowModelFiles) ------------------------------------------------------------
    def _model_root(self, version: MlflowModelVersion) -> Path:
        meta = next(
            (
                m
                for _, m in self._version_metas(version.name)
                if str(m.get("version")) == version.version
            ),
            None,
        )
        if meta is None:
            raise NotFoundError(
                f"{self.description} has no version {version.version} of {version.name!r}"
            )
        storage = _text_or_none(meta.get("storage_location"))
        source = version.source or ""
        what = f"files of {version.name} version {version.version}"
        if source.startswith("runs:/"):
            run_id, _, path = source.removeprefix("runs:/").partition("/")
            run_dir = self._run_dir(run_id)
            run = self._run(run_dir.parent, run_dir)
            root = self._artifact_root(run)
            return self._child(root, path, what) if path else root
        if source.startswith("models:/"):
            model_id = source.removeprefix("models:/").strip("/")
            conventional = self._logged_model_dir(model_id, what)
            return self._location(storage, conventional, what)
        return self._location(storage or source, self.root / MODELS / version.name, what)

    def _logged_model_dir(self, model_id: str, what: str) -> Path:
        if not is_contained(model_id) or "/" in model_id:
            raise UsageError(f"{what}: {model_id!r} is not a logged model id")
        if not self._experiment_dirs:
            self.experiments()
        for folder in self._experiment_dirs.values():
            if (folder / MODELS / model_id).is_dir():
                return folder / MODELS / model_id / "artifacts"
        raise NotFoundError(f"{self.description} has no logged model {model_id}")

    def model_files(self, version: MlflowModelVersion) -> Iterator[MlflowArtifact]:
        yield from _files_under(self, self._model_root(version))

    def open_model_file(self, version: MlflowModelVersion, path: str) -> BinaryIO:
        return self._open_under(self._model_root(version), path)

    def close(self) -> None:
        self._experiment_dirs.clear()


def _files_under(source: FileStoreSource, root: Path) -> Iterator[MlflowArtifact]:
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        target = source._inside(path, f"artifact {relative!r}")
        if target.is_file():
            yield MlflowArtifact(path=relative, size=target.stat().st_size)


def _text_or_none(value: object) -> str | None:
    if value is None or value == "":
        return None
    return str(value)


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value):
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None
