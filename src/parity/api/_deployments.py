"""Record a deployment from a workspace: shared by ``parity.api.deploy.record`` and a server
recording itself (``parity.api.serving``), which must not load the export half's libraries."""

from __future__ import annotations

from parity.api._events import deliver_staged
from parity.api._models import model_record
from parity.core.deployment import Deployment, ImageReference
from parity.workspace import Workspace


def record_deployment(
    workspace: Workspace,
    reference: str,
    place: str,
    image: str | None,
    source: str,
    note: str | None = None,
) -> tuple[Deployment, bool]:
    """Record the version ``reference`` names as running at ``place``; the deployment in force
    there and whether this call added it."""
    version, record = model_record(workspace, reference)
    shown = None if image is None else str(ImageReference.parse(image))
    recorded = workspace.deployments.record(
        place, version, record.environment_id, shown, workspace.actor().name, source, note
    )
    deliver_staged(workspace)  # the deployment.recorded event, if this added one
    return recorded
