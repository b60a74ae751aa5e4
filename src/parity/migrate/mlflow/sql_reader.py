"""MLflow's SQL tracking store (SQLite or PostgreSQL) read directly, with SQLAlchemy Core.

MLflow need not be installed: the reader names the few tables and columns it reads (the schema
MLflow's own migrations create, stable across 2.x and 3.x for these) and checks they are there
before reading anything. Metric histories are read one ordered query per run, through the
``(run_uuid, key, step)`` index MLflow keeps. Artifacts are read from where the run's
``artifact_uri`` points on this machine (``file://`` or a plain path; relative paths are taken
from the SQLite file's folder, as MLflow's default ``./mlruns`` beside ``mlflow.db`` is).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import unquote, urlsplit

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from parity.core.errors import NotFoundError, StorageError, UsageError
from parity.migrate.mlflow.source import (
    MlflowArtifact,
    MlflowDatasetInput,
    MlflowExperiment,
    MlflowMetricPoint,
    MlflowModelVersion,
    MlflowRegisteredModel,
    MlflowRun,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

# How many runs' params, tags and inputs one query asks for.
RUN_PAGE = 500
CONTEXT_TAG = "mlflow.data.context"
_REQUIRED = ("experiments", "runs", "params", "tags", "metrics")
_schema = MetaData()


# Columns that are not text, by name (the same name has one type in every table read here).
_TYPES: dict[str, Any] = {
    "experiment_id": Integer,
    "version": Integer,
    "creation_time": BigInteger,
    "last_updated_time": BigInteger,
    "start_time": BigInteger,
    "end_time": BigInteger,
    "timestamp": BigInteger,
    "step": BigInteger,
    "value": String,
    "is_nan": Boolean,
}


def _table(name: str, *columns: str) -> Table:
    return Table(name, _schema, *(Column(c, _TYPES.get(c, String)) for c in columns))


_experiments = _table(
    "experiments",
    "experiment_id",
    "name",
    "artifact_location",
    "lifecycle_stage",
    "creation_time",
)
_experiment_tags = _table("experiment_tags", "key", "value", "experiment_id")
_runs = _table(
    "runs",
    "run_uuid",
    "name",
    "user_id",
    "status",
    "start_time",
    "end_time",
    "lifecycle_stage",
    "artifact_uri",
    "experiment_id",
)
_params = _table("params", "key", "value", "run_uuid")
_tags = _table("tags", "key", "value", "run_uuid")
_metrics = Table(
    "metrics",
    MetaData(),
    Column("key", String),
    Column("value", Float),
    Column("timestamp", BigInteger),
    Column("run_uuid", String),
    Column("step", BigInteger),
    Column("is_nan", Boolean),
)
_inputs = _table(
    "inputs", "input_uuid", "source_type", "source_id", "destination_type", "destination_id"
)
_input_tags = _table("input_tags", "input_uuid", "name", "value")
_datasets = _table(
    "datasets",
    "dataset_uuid",
    "name",
    "digest",
    "dataset_source_type",
    "dataset_source",
    "dataset_schema",
    "dataset_profile",
)
_registered_models = _table(
    "registered_models", "name", "creation_time", "last_updated_time", "description"
)
_registered_model_tags = _table("registered_model_tags", "key", "value", "name")
_registered_model_aliases = _table("registered_model_aliases", "alias", "version", "name")
_model_versions = _table(
    "model_versions",
    "name",
    "version",
    "creation_time",
    "last_updated_time",
    "description",
    "user_id",
    "current_stage",
    "source",
    "run_id",
    "status",
)
_model_version_tags = _table("model_version_tags", "key", "value", "name", "version")


def sqlalchemy_url(uri: str) -> str:
    """The SQLAlchemy URL of an MLflow tracking URI; UsageError for a scheme this reader
    does not read. ``postgresql://`` is read with psycopg 3 (Parity's own driver)."""
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme == "sqlite":
        return uri
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        return "postgresql+psycopg://" + uri.split("://", 1)[1]
    raise UsageError(
        f"cannot read an MLflow store at {uri!r}",
        hint="give sqlite:///PATH/mlflow.db or postgresql://USER@HOST/DB (the tracking URI "
        "MLflow was given)",
    )


def _sqlite_path(uri: str) -> Path:
    # sqlite:///relative.db and sqlite:////absolute.db, as SQLAlchemy and MLflow read them.
    return Path(unquote(uri.split("://", 1)[1][1:].split("?", 1)[0]))


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


class SqlMlflowSource:
    """An MLflow tracking database as an ``MlflowSource``."""

    def __init__(self, uri: str) -> None:
        self.description = uri.split("@")[-1] if "postgres" in uri else uri
        url = sqlalchemy_url(uri)
        self._folder = Path.cwd()
        if url.startswith("sqlite"):
            path = _sqlite_path(url)
            if not path.is_file():
                raise NotFoundError(
                    f"no MLflow database at {path}",
                    hint="give the path MLflow wrote (sqlite:///mlflow.db is ./mlflow.db)",
                )
            self._folder = path.resolve().parent
            # Read-only: an import never changes the store it reads.
            url = f"sqlite:///file:{path.resolve()}?mode=ro&uri=true"
            engine_args: dict[str, Any] = {}
        else:
            engine_args = {}
        try:
            self._engine: Engine = create_engine(url, **engine_args)
            tables = set(inspect(self._engine).get_table_names())
        except SQLAlchemyError as exc:
            raise StorageError(
                f"cannot open the MLflow database {self.description}: {exc.__class__.__name__}",
                hint="check the URI, that the database server runs and that you may read it",
            ) from exc
        missing = [t for t in _REQUIRED if t not in tables]
        if missing:
            self._engine.dispose()
            raise UsageError(
                f"{self.description} is not an MLflow tracking database "
                f"(no table {', '.join(missing)})",
                hint="give the database MLflow's tracking server or client writes to",
            )
        self._tables = tables

    # reading -----------------------------------------------------------------------------------
    def _rows(self, query: Any) -> Sequence[Any]:
        try:
            with self._engine.connect() as connection:
                return connection.execute(query).fetchall()
        except SQLAlchemyError as exc:
            raise StorageError(
                f"cannot read {self.description}: {exc.__class__.__name__}: {exc.args[0]}",
                hint="check the database is an MLflow store MLflow itself can open",
            ) from exc

    def experiments(self) -> Sequence[MlflowExperiment]:
        tags: dict[str, dict[str, str]] = {}
        if "experiment_tags" in self._tables:
            for key, value, experiment_id in self._rows(select(_experiment_tags)):
                tags.setdefault(str(experiment_id), {})[key] = value or ""
        columns = _experiments.c
        query = select(_experiments).order_by(columns.experiment_id)
        return [
            MlflowExperiment(
                id=str(row.experiment_id),
                name=row.name,
                artifact_location=row.artifact_location,
                lifecycle_stage=row.lifecycle_stage or "active",
                created_ms=_int(row.creation_time),
                tags=tags.get(str(row.experiment_id), {}),
            )
            for row in self._rows(query)
        ]

    def runs(
        self, experiment_ids: Sequence[str], since_ms: int | None = None
    ) -> Iterator[MlflowRun]:
        if not experiment_ids:
            return
        columns = _runs.c
        query = select(_runs).where(columns.experiment_id.in_([int(i) for i in experiment_ids]))
        if since_ms is not None:
            query = query.where(columns.start_time >= since_ms)
        rows = self._rows(query.order_by(columns.start_time, columns.run_uuid))
        for start in range(0, len(rows), RUN_PAGE):
            page = rows[start : start + RUN_PAGE]
            ids = [row.run_uuid for row in page]
            params = self._by_run(_params, ids)
            tags = self._by_run(_tags, ids)
            inputs = self._inputs(ids)
            for row in page:
                yield MlflowRun(
                    id=row.run_uuid,
                    experiment_id=str(row.experiment_id),
                    name=row.name,
                    status=row.status or "FINISHED",
                    start_ms=_int(row.start_time),
                    end_ms=_int(row.end_time),
                    user=row.user_id,
                    lifecycle_stage=row.lifecycle_stage or "active",
                    artifact_uri=row.artifact_uri,
                    params=params.get(row.run_uuid, {}),
                    tags=tags.get(row.run_uuid, {}),
                    inputs=tuple(inputs.get(row.run_uuid, ())),
                )

    def _by_run(self, table: Table, run_ids: Sequence[str]) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        query = select(table.c.run_uuid, table.c.key, table.c.value).where(
            table.c.run_uuid.in_(run_ids)
        )
        for run_id, key, value in self._rows(query):
            found.setdefault(run_id, {})[key] = "" if value is None else value
        return found

    def _inputs(self, run_ids: Sequence[str]) -> dict[str, list[MlflowDatasetInput]]:
        if not {"inputs", "datasets"} <= self._tables:
            return {}
        link, data = _inputs.c, _datasets.c
        query = (
            select(link.destination_id, link.input_uuid, _datasets)
            .join(_datasets, data.dataset_uuid == link.source_id)
            .where(
                link.destination_type == "RUN",
                link.source_type == "DATASET",
                link.destination_id.in_(run_ids),
            )
            .order_by(link.destination_id, data.name, data.digest)
        )
        rows = self._rows(query)
        contexts: dict[str, str] = {}
        if rows and "input_tags" in self._tables:
            tag = _input_tags.c
            for input_id, value in self._rows(
                select(tag.input_uuid, tag.value).where(
                    tag.name == CONTEXT_TAG, tag.input_uuid.in_([r.input_uuid for r in rows])
                )
            ):
                contexts[input_id] = value
        found: dict[str, list[MlflowDatasetInput]] = {}
        for row in rows:
            found.setdefault(row.destination_id, []).append(
                MlflowDatasetInput(
                    name=row.name,
                    digest=row.digest,
                    source_type=row.dataset_source_type,
                    source=row.dataset_source,
                    schema=row.dataset_schema,
                    profile=row.dataset_profile,
                    context=contexts.get(row.input_uuid),
                )
            )
        return found

    def metric_history(self, run_id: str) -> Iterator[MlflowMetricPoint]:
        nan = float("nan")
        point = MlflowMetricPoint
        for key, value, step, stamp, is_nan in self.metric_rows(run_id):
            yield point(key, nan if is_nan else float(value), int(step), int(stamp))

    def metric_rows(self, run_id: str) -> list[tuple[str, float, int, int, bool]]:
        """The run's points as the driver returns them: (key, value, step, timestamp, is_nan),
        by key, step, timestamp. Read through the DBAPI cursor: SQLAlchemy's row objects cost
        more than the query at millions of points."""
        columns = _metrics.c
        query = (
            select(columns.key, columns.value, columns.step, columns.timestamp, columns.is_nan)
            .where(columns.run_uuid == run_id)
            .order_by(columns.key, columns.step, columns.timestamp, columns.value)
        )
        compiled = query.compile(dialect=self._engine.dialect)
        names = compiled.positiontup or []
        arguments: Any = [compiled.params[n] for n in names] if names else compiled.params
        errors: tuple[type[BaseException], ...] = (SQLAlchemyError, *self._driver_errors())
        try:
            raw = self._engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute(str(compiled), arguments)
                rows: list[tuple[str, float, int, int, bool]] = list(cursor.fetchall())
                cursor.close()
            finally:
                raw.close()
        except errors as exc:
            raise StorageError(
                f"cannot read the metrics of run {run_id} from {self.description}: {exc}",
                hint="check the database is an MLflow store MLflow itself can open",
            ) from exc
        return rows

    def _driver_errors(self) -> tuple[type[Exception], ...]:
        error = getattr(self._engine.dialect.dbapi, "Error", None)
        return (error,) if isinstance(error, type) and issubclass(error, Exception) else ()

    # artifacts ---------------------------------------------------------------------------------
    def artifact_root(self, run: MlflowRun) -> Path | None:
        """The local folder holding the run's artifacts; UsageError for a root elsewhere."""
        uri = run.artifact_uri
        if not uri:
            return None
        parts = urlsplit(uri)
        if parts.scheme == "file":
            return Path(unquote(parts.path))
        if parts.scheme and len(parts.scheme) > 1:  # one letter: a Windows drive
            raise UsageError(
                f"run {run.id} keeps its artifacts at {uri}, which this reader cannot reach",
                hint="import from a store whose artifacts are local files (file:// or a path)",
            )
        path = Path(uri)
        return path if path.is_absolute() else self._folder / path

    def artifacts(self, run: MlflowRun) -> Iterator[MlflowArtifact]:
        yield from _files_under(self.artifact_root(run))

    def open_artifact(self, run: MlflowRun, path: str) -> BinaryIO:
        root = self.artifact_root(run)
        if root is None or ".." in Path(path).parts:
            raise NotFoundError(f"run {run.id} has no artifact {path!r}")
        try:
            return (root / path).open("rb")
        except OSError as exc:
            raise NotFoundError(
                f"cannot read artifact {path!r} of run {run.id}: {exc.strerror}",
                hint=f"check {root} is readable",
            ) from exc

    # the registry ------------------------------------------------------------------------------
    def registered_models(self) -> Sequence[MlflowRegisteredModel]:
        if "registered_models" not in self._tables:
            return []
        tags: dict[str, dict[str, str]] = {}
        for key, value, name in self._rows(select(_registered_model_tags)):
            tags.setdefault(name, {})[key] = value or ""
        aliases: dict[str, dict[str, str]] = {}
        if "registered_model_aliases" in self._tables:
            for alias, version, name in self._rows(select(_registered_model_aliases)):
                aliases.setdefault(name, {})[alias] = str(version)
        query = select(_registered_models).order_by(_registered_models.c.name)
        return [
            MlflowRegisteredModel(
                name=row.name,
                created_ms=_int(row.creation_time),
                updated_ms=_int(row.last_updated_time),
                description=row.description,
                tags=tags.get(row.name, {}),
                aliases=aliases.get(row.name, {}),
            )
            for row in self._rows(query)
        ]

    def model_versions(self, name: str) -> Sequence[MlflowModelVersion]:
        if "model_versions" not in self._tables:
            return []
        tag = _model_version_tags.c
        tags: dict[str, dict[str, str]] = {}
        for key, value, version in self._rows(
            select(tag.key, tag.value, tag.version).where(tag.name == name)
        ):
            tags.setdefault(str(version), {})[key] = value or ""
        columns = _model_versions.c
        query = select(_model_versions).where(columns.name == name)
        rows = sorted(self._rows(query), key=lambda row: int(row.version))
        return [
            MlflowModelVersion(
                name=row.name,
                version=str(row.version),
                created_ms=_int(row.creation_time),
                updated_ms=_int(row.last_updated_time),
                user=row.user_id,
                description=row.description,
                source=row.source,
                run_id=row.run_id,
                status=row.status,
                stage=None if row.current_stage in (None, "None") else row.current_stage,
                tags=tags.get(str(row.version), {}),
            )
            for row in rows
        ]

    # a version's model files (MlflowModelFiles) -----------------------------------------------
    def model_files(self, version: MlflowModelVersion) -> Iterator[MlflowArtifact]:
        yield from _files_under(self._model_root(version))

    def open_model_file(self, version: MlflowModelVersion, path: str) -> BinaryIO:
        root = self._model_root(version)
        if ".." in Path(path).parts or Path(path).is_absolute():
            raise NotFoundError(f"{version.name} version {version.version} has no file {path!r}")
        try:
            return (root / path).open("rb")
        except OSError as exc:
            raise NotFoundError(
                f"cannot read {path!r} of {version.name} version {version.version}: {exc.strerror}",
                hint=f"check {root} is readable",
            ) from exc

    def _model_root(self, version: MlflowModelVersion) -> Path:
        """Where the version's files are: its storage location, else what its source names (a
        run's artifact folder, or a logged model's own location in MLflow 3)."""
        what = f"the files of {version.name} version {version.version}"
        location = self._scalar(
            "SELECT storage_location FROM model_versions WHERE name = :a AND version = :b",
            version.name,
            int(version.version),
        )
        source = version.source or ""
        if not location and source.startswith("runs:/"):
            run_id, _, inner = source.removeprefix("runs:/").partition("/")
            run_uri = self._scalar("SELECT artifact_uri FROM runs WHERE run_uuid = :a", run_id)
            location = f"{str(run_uri).rstrip('/')}/{inner}" if run_uri else None
        if not location and source.startswith("models:/"):
            location = self._scalar(
                "SELECT artifact_location FROM logged_models WHERE model_id = :a",
                source.removeprefix("models:/").strip("/"),
            )
        return self._local_folder(str(location or source), what)

    def _scalar(self, sql: str, *values: object) -> Any:
        names = ("a", "b", "c")
        try:
            with self._engine.connect() as connection:
                return connection.execute(
                    text(sql), dict(zip(names, values, strict=False))
                ).scalar()
        except SQLAlchemyError:  # a column or table this MLflow version does not have
            return None

    def _local_folder(self, uri: str, what: str) -> Path:
        parts = urlsplit(uri)
        if parts.scheme == "file":
            return Path(unquote(parts.path))
        if parts.scheme and len(parts.scheme) > 1:
            raise UsageError(
                f"{what} are at {uri}, which this reader cannot reach",
                hint="import from a store whose artifacts are local files (file:// or a path)",
            )
        path = Path(uri)
        return path if path.is_absolute() else self._folder / path

    def close(self) -> None:
        self._engine.dispose()


def _files_under(root: Path | None) -> Iterator[MlflowArtifact]:
    """Every file under a local folder, by path relative to it, in a stable order."""
    if root is None or not root.is_dir():
        return
    for folder, names, files in os.walk(root):
        names.sort()
        for name in sorted(files):
            path = Path(folder, name)
            yield MlflowArtifact(path.relative_to(root).as_posix(), path.stat().st_size)
