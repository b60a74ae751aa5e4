"""A run's infrastructure files: stored when it begins, read back for lineage and diffs.

Not public: ``parity.api.infra`` is the door; runs (``begin_run``) and lineage use these.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from parity.core.infra import INFRA_ARTIFACT, INFRA_KIND, InfraSnapshot, infra_id_of
from parity.core.run import Artifact, RunView
from parity.deploy.infra_capture import capture_infra, configured_patterns, load_infra, store_infra
from parity.workspace import Workspace, now_ms


def infra_patterns(workspace: Workspace, extra: Sequence[str] = ()) -> tuple[tuple[str, ...], bool]:
    """The ``[lineage] infra`` globs of config.toml and ``extra``; whether secrets refuse a file."""
    return configured_patterns(workspace.config.section("lineage"), extra)


def link_infra(
    workspace: Workspace,
    run_id: str,
    patterns: Sequence[str],
    refuse_secrets: bool,
    on_warning: Callable[[str], None],
) -> str | None:
    """Store what ``patterns`` match and link it to the run; the snapshot's id, or None."""
    snapshot = capture_infra(
        workspace.root, patterns, workspace.objects, on_warning, refuse_secrets
    )
    if snapshot is None:
        return None
    infra_id = store_infra(workspace.records, snapshot, now_ms())
    size = sum(f.size for f in snapshot.files)
    workspace.runs.add_artifact(run_id, Artifact(INFRA_ARTIFACT, INFRA_KIND, infra_id, size))
    return infra_id


def run_infra(workspace: Workspace, view: RunView) -> tuple[str, InfraSnapshot] | None:
    """The snapshot a run stored, with its id; None when it stored none."""
    infra_id = infra_id_of(view.artifacts)
    if infra_id is None:
        return None
    return infra_id, load_infra(workspace.records, infra_id)
