"""The model API: register, resolve and load models; ``parity.load_model`` lives here."""

from __future__ import annotations

from typing import Any

from parity.core.model import ModelRecord, ModelVersion
from parity.registry.loading import load_model_record, read_model_record
from parity.workspace import Workspace, open_workspace


class EnvironmentMismatchWarning(UserWarning):
    """The current environment differs from the model's below the refusal threshold."""


def resolve_model(workspace: Workspace, reference: str) -> ModelVersion:
    """The model version named ``NAME@ALIAS``, ``NAME/VERSION`` or ``NAME`` (latest)."""
    return workspace.registry.resolve(reference)


def model_record(workspace: Workspace, reference: str) -> tuple[ModelVersion, ModelRecord]:
    version = resolve_model(workspace, reference)
    return version, read_model_record(workspace.records, version.model_id)


def load_model(reference: str, verify_env: bool = True, workspace: Workspace | None = None) -> Any:
    """Load a registered model, verified byte for byte and checked against this environment.

    >>> model = parity.load_model("churn@production")   # doctest: +SKIP
    >>> model.predict(rows)                              # doctest: +SKIP

    Every file is checked against its digest before anything is deserialised
    (``CorruptObject`` otherwise). Then the current environment is compared with the one the
    model was trained in: a high-risk difference raises ``CheckFailed`` with the differences;
    with ``verify_env=False`` the model loads with a warning instead.
    """
    owned = workspace is None
    ws = workspace or open_workspace()
    try:
        version = resolve_model(ws, reference)

        return load_model_record(ws.records, version.model_id)
    finally:
        if owned:
            ws.close()
