"""Save a model with its signature, golden rows and environment: what a training run needs
(``run.log_model``, ``parity.models.save``), kept apart from ``_models`` so that reading and
serving a model never import the saving side (its flavors' writers, ``packaging``).
"""

from __future__ import annotations

from typing import Any

from parity.core.model import ModelRecord
from parity.env.capture import capture
from parity.env.records import store_environment
from parity.registry.saving import save_model as save_model_files
from parity.workspace import Workspace, now_ms


def save_model(
    workspace: Workspace,
    model: object,
    *,
    input_example: Any = None,
    flavor: str | None = None,
    environment_id: str | None = None,
    allow_unrestricted_pickle: bool = False,
) -> tuple[str, ModelRecord]:
    """Store a model with its signature, golden rows and the environment it was made in.

    Without ``environment_id`` the current environment is captured and stored.
    """
    if environment_id is None:
        environment_id = store_environment(workspace.records, capture(), now_ms())
    return save_model_files(
        model,
        workspace.records,
        now_ms(),
        input_example=input_example,
        flavor=flavor,
        environment_id=environment_id,
        allow_unrestricted_pickle=allow_unrestricted_pickle,
    )
