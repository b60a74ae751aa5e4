"""``parity serve``: a registered model over HTTP, after its checks pass."""

from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING

import click

from parity.cli.output import warn

if TYPE_CHECKING:
    from parity.serve.state import Readiness
    from parity.workspace import Workspace


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _environment_gate(workspace: Workspace, reference: str, skip: bool) -> Readiness:
    """Refuse (exit 1, with the differences) to serve where the model is not safe to run."""
    from parity.api.models import describe_blocking, model_record, verify_model_environment
    from parity.cli.env_commands import print_differences
    from parity.core.errors import EnvironmentMismatch
    from parity.serve.state import Readiness

    if skip:
        warn("environment verification skipped (--no-verify-env): serving unverified")
        return Readiness(environment_verified=None)
    version, record = model_record(workspace, reference)
    result = verify_model_environment(workspace, record)
    if result is None:
        warn(f"{version.ref} has no recorded environment: serving unverified")
        return Readiness(environment_verified=None)
    if not result.ok:
        print_differences(result.blocking, show_info=False)
        raise EnvironmentMismatch(
            f"refusing to serve {version.ref}: {describe_blocking(result)}",
            result.blocking,
            hint="serve it from its own environment (parity env restore), or --no-verify-env",
        )
    report = [d.to_dict() for d in result.diff.differences if d.risk > 0]
    return Readiness(environment_verified=True, environment_report=report)


@click.command()
@click.argument("reference")
@click.option("--host", default="127.0.0.1", help="Address to bind (loopback by default).")
@click.option("--port", default=8080, type=int, help="Port to listen on.")
@click.option("--workers", default=1, type=click.IntRange(min=1), help="Worker processes.")
@click.option(
    "--no-verify-env", is_flag=True, help="Serve even if the environment differs (unverified)."
)
@click.option(
    "--log-sample",
    default=0.1,
    type=click.FloatRange(0.0, 1.0),
    help="Fraction of requests whose rows are logged for drift checks.",
)
def serve(
    reference: str, host: str, port: int, workers: int, no_verify_env: bool, log_sample: float
) -> None:
    """Serve model REFERENCE (NAME@ALIAS) over HTTP after its checks pass.

    Endpoints: /predict, /invocations (MLflow), /v2/... (Open Inference Protocol), /health,
    /metadata and /metrics (Prometheus).
    """
    import uvicorn

    from parity.api.serving import OPTIONS_VARIABLE, serving_options, serving_state
    from parity.serve.app import create_app
    from parity.workspace import open_workspace

    if not _is_loopback(host):
        warn(f"binding to {host}: the model server has no authentication; put it behind one")
    workspace = open_workspace()
    readiness = _environment_gate(workspace, reference, skip=no_verify_env)
    state = serving_state(workspace, reference, readiness, log_sample)
    if not readiness.ready:
        warn("not ready: " + "; ".join(readiness.reasons))
    if workers == 1:
        uvicorn.run(create_app(state), host=host, port=port, log_level="warning", access_log=False)
        state.close()
        return
    state.close()
    os.environ[OPTIONS_VARIABLE] = serving_options(workspace.root, reference, readiness, log_sample)
    uvicorn.run(
        "parity.api.serving:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )
