"""The model API: save, resolve, verify and load models; ``parity.load_model`` lives here."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from parity.core.env_rules import Risk
from parity.core.errors import EnvironmentMismatch
from parity.core.model import ModelRecord, ModelVersion
from parity.env.capture import capture
from parity.env.records import load_environment, store_environment
from parity.env.verify import VerifyResult, verify_environment
from parity.registry.loading import load_model_record, read_model_record
from parity.registry.saving import save_model as save_model_files
from parity.workspace import Workspace, now_ms, open_workspace


class EnvironmentMismatchWarning(UserWarning):
    """The environment differs from the model's; shown when verification is skipped or mild."""


def resolve_model(workspace: Workspace, reference: str) -> ModelVersion:
    """The model version named ``NAME@ALIAS``, ``NAME/VERSION`` or ``NAME`` (latest)."""
    return workspace.registry.resolve(reference)


def model_record(workspace: Workspace, reference: str) -> tuple[ModelVersion, ModelRecord]:
    version = resolve_model(workspace, reference)
    return version, read_model_record(workspace.records, version.model_id)


def save_model(
    workspace: Workspace,
    model: object,
    *,
    input_example: Any = None,
    flavor: str | None = None,
    environment_id: str | None = None,
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
    )


def verify_model_environment(
    workspace: Workspace,
    record: ModelRecord,
    python: str | Path | None = None,
    threshold: Risk = Risk.HIGH,
) -> VerifyResult | None:
    """Compare this (or ``python``'s) environment with the model's; None if it has none.

    Only the distributions the model needs (its requirements) count; others drop to info.
    """
    if record.environment_id is None:
        return None
    expected = load_environment(workspace.records, record.environment_id)
    return verify_environment(expected, capture(python), threshold, imported=record.requirements)


def describe_blocking(result: VerifyResult) -> str:
    return "; ".join(
        f"{d.subject} {d.expected or '-'} -> {d.actual or '-'} ({d.risk})" for d in result.blocking
    )


def load_model(reference: str, verify_env: bool = True, workspace: Workspace | None = None) -> Any:
    """Load a registered model, verified byte for byte and checked against this environment.

    >>> model = parity.load_model("churn@production")   # doctest: +SKIP
    >>> model.predict(rows)                              # doctest: +SKIP

    Every file is checked against its digest before anything is deserialised
    (``CorruptObject`` otherwise). Then this environment is compared with the one the model was
    made in: a high-risk difference in a package the model needs raises
    ``EnvironmentMismatch`` listing it; with ``verify_env=False`` the model loads with an
    ``EnvironmentMismatchWarning`` instead.
    """
    owned = workspace is None
    ws = workspace or open_workspace()
    try:
        version = resolve_model(ws, reference)

        def check(record: ModelRecord) -> None:
            result = verify_model_environment(ws, record)
            if result is None:
                warnings.warn(
                    f"{version.ref} has no recorded environment: not verified",
                    EnvironmentMismatchWarning,
                    stacklevel=4,
                )
            elif not result.ok and verify_env:
                raise EnvironmentMismatch(
                    f"this environment is not safe for {version.ref}: {describe_blocking(result)}",
                    result.blocking,
                    hint="restore its environment (parity env restore) or pass verify_env=False",
                )
            elif not result.ok:
                warnings.warn(
                    f"loading {version.ref} in an environment that differs at high risk: "
                    f"{describe_blocking(result)}",
                    EnvironmentMismatchWarning,
                    stacklevel=4,
                )

        return load_model_record(ws.records, version.model_id, check_environment=check)
    finally:
        if owned:
            ws.close()
