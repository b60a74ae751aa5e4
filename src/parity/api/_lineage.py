"""Lineage and comparison of models: the registry's facts joined with the tracking store's runs.

This is where the two services meet (registry and tracking may not import each other), so the
composition lives here and the graph itself is built by the pure ``parity.registry.lineage``.
Not public: ``parity.api.models.lineage`` and ``compare`` are the doors; serving reads
``training_data_versions``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from parity.api._infra import run_infra
from parity.api._models import ModelSource, resolve_source
from parity.core.env_rules import diff_environments
from parity.core.errors import NotFoundError
from parity.core.infra import InfraSnapshot
from parity.deploy.exports import ExportLog
from parity.deploy.lineage import extend_lineage
from parity.env.records import describe, load_environment
from parity.registry.comparison import ModelComparison, ModelSide, compare_models
from parity.registry.lineage import (
    CodeFacts,
    DataInput,
    Lineage,
    ReproFacts,
    RunFacts,
    build_lineage,
)
from parity.workspace import Workspace, now_ms

if TYPE_CHECKING:
    from parity.core.env_rules import EnvDiff
    from parity.core.model import ModelVersion
    from parity.core.run import RunView


def run_facts(view: RunView, reproductions: tuple[ReproFacts, ...] = ()) -> RunFacts:
    code = view.code
    return RunFacts(
        id=view.id,
        status=str(view.status),
        name=view.name,
        experiment=view.experiment,
        params=dict(view.params),
        metrics=dict(view.metrics),
        code=None
        if code is None
        else CodeFacts(
            commit=code.get("commit"),
            branch=code.get("branch"),
            dirty=bool(code.get("dirty")),
            repository=code.get("repo_url"),
            diff_blob=code.get("diff_digest"),
        ),
        environment_id=view.environment_id,
        inputs=tuple(DataInput(link.path, link.data_version) for link in view.inputs),
        parent_id=view.parent_id,
        reproduces=view.reproduces,
        reproductions=reproductions,
    )


def find_run(workspace: Workspace, run_id: str) -> RunFacts | None:
    """A run's facts, or None when this workspace's tracking store does not have it."""
    try:
        view = workspace.runs.find(run_id)
    except NotFoundError:
        return None
    found = workspace.reproductions.of([view.id])
    return run_facts(view, tuple(ReproFacts(r.run_id, r.verdict, r.created_ms) for r in found))


def training_data_versions(workspace: Workspace, version: ModelVersion) -> tuple[str, ...]:
    """The input data versions of the run that made ``version`` (none without a tracked run).

    What a server tags its metadata, metrics and prediction log with.
    """
    run = find_run(workspace, version.run_id) if version.run_id else None
    return tuple(d.data_version for d in (run.inputs if run else ()) if d.data_version)


def environment_facts(workspace: Workspace, environment_id: str) -> dict[str, Any] | None:
    """What a person reads of an environment first; None when its record is not here."""
    try:
        environment = load_environment(workspace.records, environment_id)
    except NotFoundError:
        return None
    return {
        "description": describe(environment),
        "python": environment.interpreter.version,
        "machine": environment.platform.machine,
        "packages": len(environment.distributions),
    }


def model_lineage(workspace: Workspace, reference: str) -> Lineage:
    """What made the model ``reference`` names (NAME@ALIAS, NAME/VERSION, NAME or RUN:PATH),
    and, for a version, where it was exported for and where it runs."""
    source = resolve_source(workspace, reference)
    lineage = build_lineage(
        source.version,
        source.record,
        source.model_id,
        lambda run_id: find_run(workspace, run_id),
        run_id=source.run_id,
        environments=lambda environment_id: environment_facts(workspace, environment_id),
    )
    infra: dict[str, tuple[str, InfraSnapshot]] = {}
    for node in lineage.of_kind("run"):
        run_id = node.id.split(":", 1)[1]
        found = run_infra(workspace, workspace.runs.find(run_id))
        if found is not None:
            infra[run_id] = found
    version = source.version
    if version is None:
        return extend_lineage(lineage, infra)
    exports = ExportLog(workspace.records, workspace.export_filings, now_ms).of_version(
        version.name, version.version
    )
    running = [
        d for d in workspace.deployments.current(version.name) if d.version == version.version
    ]
    return extend_lineage(lineage, infra, exports, running)


def _side(workspace: Workspace, source: ModelSource) -> ModelSide:
    run = find_run(workspace, source.run_id) if source.run_id else None
    return ModelSide(source.version, source.record, source.model_id, source.label, run)


def compare_sources(workspace: Workspace, first: str, second: str) -> ModelComparison:
    """Two models side by side: their runs' params and metrics, environments and data inputs."""
    a, b = resolve_source(workspace, first), resolve_source(workspace, second)
    environment: EnvDiff | None = None
    if a.record.environment_id and b.record.environment_id:
        environment = diff_environments(
            load_environment(workspace.records, a.record.environment_id),
            load_environment(workspace.records, b.record.environment_id),
            imported=set(a.record.requirements) | set(b.record.requirements),
        )
    return compare_models(_side(workspace, a), _side(workspace, b), environment)
