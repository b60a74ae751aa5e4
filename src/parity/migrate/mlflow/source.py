"""What an MLflow tracking store holds, as Parity reads it: plain records and one reader port.

Every reader (the SQL store over SQLite or PostgreSQL, the ``./mlruns`` file store, an MLflow
server's REST API) yields these records, so the importer never knows which kind of store it reads.
Times are milliseconds since the epoch, as MLflow keeps them; ids are MLflow's own strings.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol, runtime_checkable


@dataclass(frozen=True)
class MlflowExperiment:
    id: str
    name: str
    artifact_location: str | None
    lifecycle_stage: str  # "active" | "deleted"
    created_ms: int | None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MlflowDatasetInput:
    """One entry of a run's ``inputs``: a dataset MLflow recorded, and where it came from."""

    name: str
    digest: str
    source_type: str
    source: str
    schema: str | None = None
    profile: str | None = None
    context: str | None = None  # the ``mlflow.data.context`` input tag: "training", "eval", …


@dataclass(frozen=True)
class MlflowRun:
    id: str
    experiment_id: str
    name: str | None
    status: str  # RUNNING | SCHEDULED | FINISHED | FAILED | KILLED
    start_ms: int | None
    end_ms: int | None
    user: str | None
    lifecycle_stage: str  # "active" | "deleted"
    artifact_uri: str | None
    params: Mapping[str, str] = field(default_factory=dict)
    tags: Mapping[str, str] = field(default_factory=dict)  # includes mlflow.* system tags
    inputs: Sequence[MlflowDatasetInput] = ()

    @property
    def parent_id(self) -> str | None:
        return self.tags.get("mlflow.parentRunId")

    @property
    def git_commit(self) -> str | None:
        return self.tags.get("mlflow.source.git.commit")


@dataclass(frozen=True)
class MlflowMetricPoint:
    key: str
    value: float  # NaN and ±inf as MLflow stores them
    step: int
    timestamp_ms: int


@dataclass(frozen=True)
class MlflowArtifact:
    """A file under a run's artifact root; ``path`` is relative, with forward slashes."""

    path: str
    size: int | None


@dataclass(frozen=True)
class MlflowRegisteredModel:
    name: str
    created_ms: int | None
    updated_ms: int | None
    description: str | None
    tags: Mapping[str, str] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)  # alias -> version number as text


@dataclass(frozen=True)
class MlflowModelVersion:
    name: str
    version: str
    created_ms: int | None
    updated_ms: int | None
    user: str | None
    description: str | None
    source: str | None  # e.g. "runs:/<id>/model", "models:/m-…", or an artifact URI
    run_id: str | None
    status: str | None
    stage: str | None  # None | Staging | Production | Archived (stages are imported as aliases)
    tags: Mapping[str, str] = field(default_factory=dict)


class MlflowSource(Protocol):
    """A read-only view of one MLflow tracking store; readers raise only ParityError."""

    description: str  # for messages: "sqlite:///mlflow.db", "./mlruns", "http://host:5000"

    def experiments(self) -> Sequence[MlflowExperiment]:
        """Every experiment, deleted ones included (the importer decides)."""
        ...

    def runs(
        self, experiment_ids: Sequence[str], since_ms: int | None = None
    ) -> Iterator[MlflowRun]:
        """Runs of those experiments started at or after ``since_ms``, params, tags, inputs."""
        ...

    def metric_history(self, run_id: str) -> Iterator[MlflowMetricPoint]:
        """Every logged point of every metric of the run (full history, not only the latest)."""
        ...

    def artifacts(self, run: MlflowRun) -> Iterator[MlflowArtifact]:
        """Every file under the run's artifact root, recursively."""
        ...

    def open_artifact(self, run: MlflowRun, path: str) -> BinaryIO:
        """A binary stream of one artifact file; the caller closes it."""
        ...

    def registered_models(self) -> Sequence[MlflowRegisteredModel]: ...

    def model_versions(self, name: str) -> Sequence[MlflowModelVersion]: ...

    def close(self) -> None: ...


@runtime_checkable
class MlflowModelFiles(Protocol):
    """A reader that can also list and open the files of a model version.

    MLflow 3 keeps a logged model's files outside its run's artifacts (``models:/m-…``), so the
    run's artifact listing does not reach them; readers that know where they live say so here.
    """

    def model_files(self, version: MlflowModelVersion) -> Iterator[MlflowArtifact]:
        """Every file of the version's model folder (MLmodel at its top), recursively."""
        ...

    def open_model_file(self, version: MlflowModelVersion, path: str) -> BinaryIO:
        """A binary stream of one of those files; the caller closes it."""
        ...
