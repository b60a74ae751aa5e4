"""Compare two model versions: metrics and params of their runs, environment and data inputs.

Pure: the API layer hands in both sides' facts and the environment diff; this returns a result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parity.core.env_rules import EnvDiff
from parity.core.model import ModelRecord, ModelVersion
from parity.registry.lineage import RunFacts

COMPARISON_FORMAT = 1


@dataclass(frozen=True)
class ModelSide:
    """One model: a registered version, or a logged model named by ``RUN:PATH`` (no version)."""

    version: ModelVersion | None
    record: ModelRecord
    model_id: str
    label: str  # how the user named it: "bc/3", "0190ab…:model"
    run: RunFacts | None


@dataclass(frozen=True)
class Change:
    """One key on both sides; ``None`` where a side does not have it."""

    key: str
    a: Any
    b: Any

    @property
    def differs(self) -> bool:
        return bool(self.a != self.b)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "a": self.a, "b": self.b, "differs": self.differs}


@dataclass(frozen=True)
class ModelComparison:
    a: str
    b: str
    model: tuple[Change, ...]  # flavor, model id, environment id, run id
    params: tuple[Change, ...]
    metrics: tuple[Change, ...]
    data: tuple[Change, ...]  # input path -> data version id
    environment: EnvDiff | None  # None when a side has no recorded environment

    @property
    def identical(self) -> bool:
        changes = (*self.model, *self.params, *self.metrics, *self.data)
        return not any(c.differs for c in changes) and (
            self.environment is None or self.environment.identical
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": COMPARISON_FORMAT,
            "a": self.a,
            "b": self.b,
            "identical": self.identical,
            "model": [c.to_dict() for c in self.model],
            "params": [c.to_dict() for c in self.params],
            "metrics": [c.to_dict() for c in self.metrics],
            "data": [c.to_dict() for c in self.data],
            "environment": None if self.environment is None else self.environment.to_dict(),
        }


def _changes(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[Change, ...]:
    return tuple(Change(key, a.get(key), b.get(key)) for key in sorted({*a, *b}))


def _inputs(run: RunFacts | None) -> dict[str, str | None]:
    return {} if run is None else {d.path: d.data_version for d in run.inputs}


def compare_models(a: ModelSide, b: ModelSide, environment: EnvDiff | None) -> ModelComparison:
    def summary(side: ModelSide) -> dict[str, Any]:
        return {
            "flavor": side.record.flavor,
            "model id": side.model_id,
            "environment id": side.record.environment_id,
            "run id": side.run.id if side.run else side.version.run_id if side.version else None,
        }

    return ModelComparison(
        a=a.label,
        b=b.label,
        model=_changes(summary(a), summary(b)),
        params=_changes(a.run.params if a.run else {}, b.run.params if b.run else {}),
        metrics=_changes(a.run.metrics if a.run else {}, b.run.metrics if b.run else {}),
        data=_changes(_inputs(a.run), _inputs(b.run)),
        environment=environment,
    )
