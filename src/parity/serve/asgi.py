"""The ASGI application factory uvicorn calls in each worker process.

Options travel from ``parity serve`` to the workers in one environment variable, so every worker
loads and checks the model itself before it answers.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from fastapi import FastAPI

OPTIONS_VARIABLE = "PARITY_SERVE_OPTIONS"


def serving_options(
    workspace_root: Path,
    reference: str,
    verified: bool | None,
    report: list[dict[str, Any]],
    sample_rate: float,
) -> str:
    return json.dumps(
        {
            "root": str(workspace_root),
            "reference": reference,
            "verified": verified,
            "report": report,
            "sample_rate": sample_rate,
        }
    )


def build() -> FastAPI:
    from parity.serve.app import create_app
    from parity.serve.state import Readiness, build_state
    from parity.workspace import open_workspace

    options = json.loads(os.environ[OPTIONS_VARIABLE])
    workspace = open_workspace(Path(options["root"]))
    readiness = Readiness(options["verified"], options["report"])
    state = build_state(workspace, options["reference"], readiness, options["sample_rate"])
    return create_app(state)
