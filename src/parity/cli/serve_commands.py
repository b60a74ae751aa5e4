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


def _verify_environment(workspace: Workspace, reference: str, readiness: Readiness) -> None:
    """Refuse (exit 1, with the differences) to serve where the model is not safe to run.

    Runs in the serving process before the model is loaded: with the bytecode cached the check
    takes ~20 ms here, less than the interference a second process caused (it ran verify beside
    the model load when that took seconds, but the two processes slowed each other by ~0.08 s).
    """
    from parity.api.models import describe_blocking, resolve_source, verify_model_environment
    from parity.core.env_rules import Risk
    from parity.core.errors import EnvironmentMismatch

    source = resolve_source(workspace, reference)
    result = verify_model_environment(workspace, source.record)
    if result is None:
        warn(f"{source.label} has no recorded environment to verify against: serving unverified")
        return
    if not result.ok:
        from parity.cli.env_commands import print_differences

        print_differences(result.blocking, show_info=False)
        raise EnvironmentMismatch(
            f"refusing to serve {source.label}: {describe_blocking(result)}",
            result.blocking,
            hint="serve it from its own environment (parity env restore), or --no-verify-env",
        )
    readiness.environment_verified = True
    readiness.environment_report = [
        d.to_dict() for d in result.diff.differences if d.risk > Risk.INFO
    ]


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
@click.option(
    "--max-body-mib",
    default=4.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Largest request body taken, in MiB; a larger one is refused with 413.",
)
def serve(
    reference: str,
    host: str,
    port: int,
    workers: int,
    no_verify_env: bool,
    log_sample: float,
    max_body_mib: float,
) -> None:
    """Serve model REFERENCE (NAME@ALIAS) over HTTP after its checks pass.

    Endpoints: /predict, /invocations (MLflow), /v2/... (Open Inference Protocol), /health,
    /metadata and /metrics (Prometheus).
    """
    from parity.serve.collector import collector_paused_for_startup

    with collector_paused_for_startup():
        import uvicorn

        from parity.api.serving import OPTIONS_VARIABLE, serving_options, serving_state
        from parity.serve.app import create_app
        from parity.serve.state import Readiness
        from parity.workspace import open_workspace

        if not _is_loopback(host):
            warn(f"binding to {host}: the model server has no authentication; put it behind one")
        workspace = open_workspace()
        readiness = Readiness(environment_verified=None)
        if no_verify_env:
            warn("environment verification skipped (--no-verify-env): serving unverified")
        else:
            _verify_environment(workspace, reference, readiness)
        state = serving_state(workspace, reference, readiness, log_sample)
        if not readiness.ready:
            warn("not ready: " + "; ".join(readiness.reasons))
        max_body_bytes = int(max_body_mib * 1024 * 1024)
        app = create_app(state, max_body_bytes) if workers == 1 else None
    if app is not None:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            ws="none",  # no endpoint speaks WebSocket: skip importing a WebSocket library
        )
        state.close()
        return
    state.close()
    os.environ[OPTIONS_VARIABLE] = serving_options(
        workspace.root, reference, readiness, log_sample, max_body_bytes
    )
    uvicorn.run(
        "parity.api.serving:build",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        ws="none",
    )
