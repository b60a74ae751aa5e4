"""The model record: what was saved, how to load it, and what it needs to run.

A model record is immutable and content-addressed like every record; a *model version* (name,
number, aliases, lock) is mutable registry state that points at one model record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from parity.core.records import StoredRecord
from parity.core.references import (
    RecordReferences,
    Reference,
    Target,
    as_object,
    list_at,
    referenced,
)

MODEL_KIND = "model"
DEFAULT_MODEL_PATH = "model"  # the artifact path a run logs its model at, unless named
MODEL_FORMAT = 1


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    dtype: str  # numpy dtype string: "float64", "int64", "bool", "object" (strings), …
    # The input example had missing values here, so a served model takes null in this column.
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        # Written only when set: records saved before the field existed keep their ids.
        return {
            "name": self.name,
            "dtype": self.dtype,
            **({"nullable": True} if self.nullable else {}),
        }


@dataclass(frozen=True)
class Signature:
    """The model's inputs (in training column order) and outputs."""

    inputs: tuple[ColumnSpec, ...]
    outputs: tuple[ColumnSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "inputs": [c.to_dict() for c in self.inputs],
            "outputs": [c.to_dict() for c in self.outputs],
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Signature:
        return cls(
            inputs=tuple(ColumnSpec(**c) for c in document.get("inputs", ())),
            outputs=tuple(ColumnSpec(**c) for c in document.get("outputs", ())),
        )

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.inputs)


@dataclass(frozen=True)
class ArtifactFile:
    path: str  # relative, with forward slashes
    digest: str
    size: int


@dataclass(frozen=True)
class DeclaredEnvironment:
    """An environment a model's author *declared* (a requirements.txt, conda.yaml or
    python_env.yaml shipped with it) that no Parity capture ever fingerprinted.

    It says what the author asked for, not what the model was made in: nothing can be verified
    against it, so every check that compares environments reports the model as declared-only.
    """

    origin: str  # where it came from: "mlflow"
    files: tuple[str, ...]  # the declaring files, among the model record's files
    python: str | None = None  # the Python version the declaration names, if any
    # The exact pins (name -> version) the declaration lists; ranges and URLs are left out.
    requirements: Mapping[str, str] = field(default_factory=dict)

    fingerprinted = False  # by definition: a captured environment is an environment record

    def to_dict(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "files": sorted(self.files),
            "python": self.python,
            "requirements": dict(sorted(self.requirements.items())),
            "fingerprinted": False,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> DeclaredEnvironment:
        return cls(
            origin=str(document.get("origin", "")),
            files=tuple(document.get("files") or ()),
            python=document.get("python"),
            requirements=dict(document.get("requirements") or {}),
        )

    def describe(self) -> str:
        return f"{', '.join(self.files) or 'no file'} from {self.origin}"


@dataclass(frozen=True)
class ModelRecord:
    flavor: str  # "sklearn" | "pyfunc" | "onnx" | "pytorch"
    loader: Mapping[str, Any]  # flavor-specific: file name, serialisation format, trusted types
    files: tuple[ArtifactFile, ...]
    signature: Signature | None = None
    environment_id: str | None = None
    # Distributions (name -> version) the model needs to load and predict.
    requirements: Mapping[str, str] = field(default_factory=dict)
    # Rows kept at save time with the predictions they gave: the serving start-up check.
    golden_inputs: str | None = None  # path of a JSON file among ``files``
    golden_predictions: str | None = None
    # An environment declared by the model's author and never captured (imported models).
    declared_environment: DeclaredEnvironment | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(sorted(self.files, key=lambda f: f.path)))

    def file(self, path: str) -> ArtifactFile | None:
        return next((f for f in self.files if f.path == path), None)

    def environment_gap(self) -> str:
        """Why nothing can be verified against this model's environment: for messages."""
        if self.declared_environment is not None:
            return (
                "has only a declared environment "
                f"({self.declared_environment.describe()}), never fingerprinted"
            )
        return "has no recorded environment"

    def to_dict(self) -> dict[str, Any]:
        document = self._body()
        # Written only when set: records saved before the field existed keep their ids.
        if self.declared_environment is not None:
            document["declared_environment"] = self.declared_environment.to_dict()
        return document

    def _body(self) -> dict[str, Any]:
        return {
            "flavor": self.flavor,
            "loader": dict(self.loader),
            "files": [{"path": f.path, "digest": f.digest, "size": f.size} for f in self.files],
            "signature": self.signature.to_dict() if self.signature else None,
            "environment_id": self.environment_id,
            "requirements": dict(sorted(self.requirements.items())),
            "golden_inputs": self.golden_inputs,
            "golden_predictions": self.golden_predictions,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> ModelRecord:
        signature = document.get("signature")
        return cls(
            flavor=document["flavor"],
            loader=dict(document.get("loader") or {}),
            files=tuple(ArtifactFile(**f) for f in document.get("files", ())),
            signature=Signature.from_dict(signature) if signature else None,
            environment_id=document.get("environment_id"),
            requirements=dict(document.get("requirements") or {}),
            golden_inputs=document.get("golden_inputs"),
            golden_predictions=document.get("golden_predictions"),
            declared_environment=(
                DeclaredEnvironment.from_dict(document["declared_environment"])
                if document.get("declared_environment")
                else None
            ),
        )

    def to_record(self) -> StoredRecord:
        return StoredRecord(MODEL_KIND, MODEL_FORMAT, self.to_dict())

    @classmethod
    def from_record(cls, record: StoredRecord) -> ModelRecord:
        return cls.from_dict(record.body_of(MODEL_KIND, MODEL_FORMAT, "model record"))


def model_references(body: Mapping[str, Any]) -> list[Reference]:
    """The blob of every artifact file and the environment the model was saved from."""
    found = referenced(Target.ENVIRONMENT, body.get("environment_id"), "environment_id")
    for index, item in enumerate(list_at(body, "files")):
        field = f"files[{index}].digest"
        found += referenced(Target.OBJECT, as_object(item, field).get("digest"), field)
    return found


MODEL_REFERENCES = RecordReferences(MODEL_KIND, MODEL_FORMAT, model_references)


@dataclass(frozen=True)
class ModelVersion:
    """Registry state of one version: mutable (aliases, lock), unlike the record it points at."""

    name: str
    version: int
    model_id: str
    run_id: str | None
    created_ms: int
    created_by: str
    locked: bool
    aliases: tuple[str, ...] = ()
    description: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "model_id": self.model_id,
            "run_id": self.run_id,
            "created_ms": self.created_ms,
            "created_by": self.created_by,
            "locked": self.locked,
            "aliases": list(self.aliases),
            "description": self.description,
        }


@dataclass(frozen=True)
class AuditEvent:
    """One append-only entry of the registry's audit trail."""

    sequence: int
    name: str
    version: int | None
    action: str  # "register" | "adopt" | "alias" | "unalias" | "lock" | "unlock" | "delete"
    actor: str
    time_ms: int
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None
    reason: str | None
    forced: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "name": self.name,
            "version": self.version,
            "action": self.action,
            "actor": self.actor,
            "time_ms": self.time_ms,
            "before": dict(self.before) if self.before is not None else None,
            "after": dict(self.after) if self.after is not None else None,
            "reason": self.reason,
            "forced": self.forced,
        }
