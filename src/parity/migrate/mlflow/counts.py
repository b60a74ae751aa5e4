"""What an import brought, by kind: the summary it prints and the numbers ``--verify`` checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any


@dataclass(frozen=True)
class ImportCounts:
    """Counts of one import (or, with ``--dry-run``, of what it would write).

    ``runs`` are the runs written now; ``runs_skipped`` those a previous import already
    finished. ``tags`` counts the source's own tags (mlflow.* included), not the ones the
    import adds (``mlflow.run_id``, ``mlflow.import.done``, ``mlflow.experiment_id``);
    ``datasets`` the dataset inputs, recorded as ``mlflow.dataset.*`` tags.
    """

    experiments: int = 0
    runs: int = 0
    runs_skipped: int = 0
    params: int = 0
    tags: int = 0
    metric_points: int = 0
    datasets: int = 0
    artifacts: int = 0
    artifact_bytes: int = 0
    registry: Mapping[str, int] = field(default_factory=dict)  # what the registry step brought

    def plus(self, **more: int) -> ImportCounts:
        return replace(self, **{name: getattr(self, name) + n for name, n in more.items()})

    def to_dict(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "registry"
        }
        document["registry"] = dict(self.registry)
        return document

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> ImportCounts:
        numbers = {
            f.name: int(document.get(f.name, 0)) for f in fields(cls) if f.name != "registry"
        }
        registry = {str(k): int(v) for k, v in (document.get("registry") or {}).items()}
        return cls(**numbers, registry=registry)
