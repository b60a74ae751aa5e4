"""Runs side by side: params, final metrics, data inputs, infrastructure files, and how their
environments differ.

Environments are compared pairwise against the first run's (the baseline), with the same rated
diff ``parity env diff`` prints.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from parity.core.env_rules import EnvDiff, diff_environments
from parity.core.errors import UsageError
from parity.core.infra import InfraSnapshot, infra_id_of
from parity.core.run import RunView
from parity.env.records import load_environment
from parity.store.records import RecordStore


@dataclass(frozen=True)
class Row:
    """One key across the runs; ``values`` in run order, None where a run lacks it."""

    key: str
    values: tuple[Any, ...]

    @property
    def differs(self) -> bool:
        return len(set(map(repr, self.values))) > 1

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "values": list(self.values), "differs": self.differs}


@dataclass(frozen=True)
class EnvironmentComparison:
    run_id: str
    environment_id: str | None
    diff: EnvDiff | None  # against the baseline; None when either has no environment

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "environment_id": self.environment_id,
            "identical": None if self.diff is None else self.diff.identical,
            "diff": None if self.diff is None else self.diff.to_dict(),
        }


@dataclass(frozen=True)
class RunComparison:
    runs: tuple[RunView, ...]
    params: tuple[Row, ...]
    metrics: tuple[Row, ...]
    inputs: tuple[Row, ...]  # data path -> data version per run
    environments: tuple[EnvironmentComparison, ...]  # every run after the first vs the first
    # infrastructure file path -> the digest of what was stored per run (``[lineage] infra``)
    infra: tuple[Row, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": [
                {"id": r.id, "name": r.name, "status": str(r.status), "experiment": r.experiment}
                for r in self.runs
            ],
            "params": [row.to_dict() for row in self.params],
            "metrics": [row.to_dict() for row in self.metrics],
            "inputs": [row.to_dict() for row in self.inputs],
            "environments": [e.to_dict() for e in self.environments],
            "infra": [row.to_dict() for row in self.infra],
        }


def _rows(maps: Sequence[Mapping[str, Any]]) -> tuple[Row, ...]:
    keys = sorted({key for mapping in maps for key in mapping})
    return tuple(Row(key, tuple(mapping.get(key) for mapping in maps)) for key in keys)


def _infra_files(records: RecordStore, run: RunView) -> dict[str, str]:
    infra_id = infra_id_of(run.artifacts)
    if infra_id is None:
        return {}
    snapshot = InfraSnapshot.from_record(records.get(infra_id))
    return {f.path: f.digest for f in snapshot.files}


def compare_runs(records: RecordStore, runs: Sequence[RunView]) -> RunComparison:
    if len(runs) < 2:
        raise UsageError("compare needs at least two runs", hint="name two or more run ids")
    baseline = runs[0]
    base_env = (
        load_environment(records, baseline.environment_id) if baseline.environment_id else None
    )
    environments = []
    for run in runs[1:]:
        diff = None
        if base_env is not None and run.environment_id:
            if run.environment_id == baseline.environment_id:
                diff = EnvDiff(run.environment_id, run.environment_id, ())
            else:
                diff = diff_environments(base_env, load_environment(records, run.environment_id))
        environments.append(EnvironmentComparison(run.id, run.environment_id, diff))
    return RunComparison(
        runs=tuple(runs),
        params=_rows([r.params for r in runs]),
        metrics=_rows([r.metrics for r in runs]),
        inputs=_rows([{link.path: link.data_version for link in r.inputs} for r in runs]),
        environments=tuple(environments),
        infra=_rows([_infra_files(records, r) for r in runs]),
    )
