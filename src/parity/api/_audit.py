"""Auditing everything a workspace recorded: every environment, and what was made in them.

``audit_workspace`` matches each stored environment record once, then names the registered model
versions (with their aliases) and the runs whose environment is vulnerable. Another kind of
subject recorded with an environment id joins by adding its source to ``_subjects``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from parity.core.environment import ENV_KIND
from parity.env.advisories import AdvisorySet
from parity.env.audit import AuditResult, audit_environment
from parity.env.records import load_environment
from parity.registry.loading import read_model_record
from parity.workspace import Workspace


@dataclass(frozen=True)
class Subject:
    """Something recorded with an environment: a model version or a run."""

    kind: str  # "model" | "run"
    ref: str  # "churn/3", or a run id
    environment_id: str
    aliases: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "ref": self.ref,
            "environment": self.environment_id,
            "aliases": list(self.aliases),
        }


@dataclass(frozen=True)
class WorkspaceAudit:
    environments: tuple[AuditResult, ...]  # every stored environment, vulnerable or not
    subjects: tuple[Subject, ...]  # everything recorded with one of them

    @property
    def vulnerable(self) -> tuple[AuditResult, ...]:
        return tuple(r for r in self.environments if not r.ok)

    @property
    def ok(self) -> bool:
        return not self.vulnerable

    def affected_subjects(self, environment_id: str) -> tuple[Subject, ...]:
        return tuple(s for s in self.subjects if s.environment_id == environment_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "environments": len(self.environments),
            "vulnerable": [
                {
                    **result.to_dict(),
                    "used_by": [s.to_dict() for s in self.affected_subjects(result.environment_id)],
                }
                for result in self.vulnerable
            ],
        }


def _models(workspace: Workspace) -> Iterator[Subject]:
    registry = workspace.registry
    for model in registry.models():
        for version in registry.versions(model["name"]):
            record = read_model_record(workspace.records, version.model_id)
            if record.environment_id is not None:
                yield Subject("model", version.ref, record.environment_id, version.aliases)


def _runs(workspace: Workspace) -> Iterator[Subject]:
    for run in workspace.runs.search():
        if run.environment_id is not None:
            yield Subject("run", run.id, run.environment_id)


def _subjects(workspace: Workspace) -> Iterator[Subject]:
    yield from _models(workspace)
    yield from _runs(workspace)


def audit_workspace(workspace: Workspace, advisories: AdvisorySet) -> WorkspaceAudit:
    results = tuple(
        audit_environment(load_environment(workspace.records, environment_id), advisories)
        for environment_id in workspace.records.meta.record_ids(ENV_KIND)
    )
    return WorkspaceAudit(results, tuple(_subjects(workspace)))
