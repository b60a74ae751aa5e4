"""Compose a model server from a workspace: the one place serving meets configuration.

``build`` is the factory uvicorn calls in each worker process; the options travel from
``parity.api.serving.serve`` to the workers in one environment variable, so every worker loads
and checks the model itself before it answers. Not public: ``parity.api.serving`` is the door,
and it imports this module (NumPy, SQLAlchemy) only once the collector is paused.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.api._lineage import training_data_versions
from parity.serve.collector import collector_paused_for_startup
from parity.serve.state import Readiness, ServingState, build_state
from parity.workspace import Workspace, now_ms, open_workspace

if TYPE_CHECKING:
    from starlette.applications import Starlette

OPTIONS_VARIABLE = "PARITY_SERVE_OPTIONS"


def serving_state(
    workspace: Workspace,
    reference: str,
    readiness: Readiness,
    sample_rate: float,
    allow_unrestricted_pickle: bool = False,
) -> ServingState:
    # The server tags /metadata, /metrics and its prediction log with the data the model was
    # trained on, so drift checks and dashboards know which data version a prediction belongs to.
    data_versions = training_data_versions(workspace, workspace.registry.resolve(reference))
    return build_state(
        workspace.registry,
        workspace.records,
        now_ms,
        reference,
        readiness,
        sample_rate,
        data_versions=data_versions,
        predictions=workspace.monitoring,
        allow_unrestricted_pickle=allow_unrestricted_pickle,
    )


def serving_options(
    workspace_root: Path,
    reference: str,
    readiness: Readiness,
    sample_rate: float,
    max_body_bytes: int,
    allow_unrestricted_pickle: bool = False,
) -> str:
    return json.dumps(
        {
            "root": str(workspace_root),
            "reference": reference,
            "verified": readiness.environment_verified,
            "report": readiness.environment_report,
            "sample_rate": sample_rate,
            "max_body_bytes": max_body_bytes,
            "allow_unrestricted_pickle": allow_unrestricted_pickle,
        }
    )


def build() -> Starlette:
    options: dict[str, Any] = json.loads(os.environ[OPTIONS_VARIABLE])
    with collector_paused_for_startup():
        from parity.serve.app import create_app  # lazy: Starlette loads with the collector paused

        workspace = open_workspace(Path(options["root"]))
        readiness = Readiness(options["verified"], options["report"])
        state = serving_state(
            workspace,
            options["reference"],
            readiness,
            options["sample_rate"],
            bool(options.get("allow_unrestricted_pickle", False)),
        )
        return create_app(state, options["max_body_bytes"])
