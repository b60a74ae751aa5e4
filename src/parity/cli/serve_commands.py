"""``parity serve``: a registered model over HTTP, after its checks pass."""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parity.cli.output import warn

if TYPE_CHECKING:
    from parity.serve.state import Readiness


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _start_environment_gate(root: Path, reference: str) -> subprocess.Popen[str]:
    """Verify the environment in a second process, while this one imports and loads the model.

    Both take seconds (importing scikit-learn alone does); on two cores they overlap.
    """
    return subprocess.Popen(
        [sys.executable, "-m", "parity", "models", "verify", reference, "--json"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish_environment_gate(gate: subprocess.Popen[str], readiness: Readiness) -> None:
    """Refuse (exit 1, with the differences) to serve where the model is not safe to run."""
    from parity.core.env_rules import Difference, Risk
    from parity.core.errors import EnvironmentMismatch, NotFoundError, UsageError

    output, errors = gate.communicate()
    if gate.returncode == NotFoundError.exit_code and "no recorded environment" in errors:
        warn(errors.strip().removeprefix("error: ") + ": serving unverified")
        readiness.environment_verified = None
        return
    if gate.returncode not in (0, 1) or not output.strip():
        raise UsageError(
            f"could not verify the environment: {errors.strip() or 'no answer'}",
            hint="run 'parity models verify' to see why, or pass --no-verify-env",
        )
    report = json.loads(output)
    differences = tuple(
        Difference(
            d["subject"], d["rule"], d["expected"], d["actual"], Risk.parse(d["risk"]), d["reason"]
        )
        for d in report["differences"]
    )
    if gate.returncode == 1:
        from parity.cli.env_commands import print_differences

        blocking = tuple(d for d in differences if d.risk >= Risk.HIGH)
        print_differences(blocking, show_info=False)
        described = "; ".join(
            f"{d.subject} {d.expected or '-'} -> {d.actual or '-'}" for d in blocking
        )
        raise EnvironmentMismatch(
            f"refusing to serve {report['model']}: {described}",
            blocking,
            hint="serve it from its own environment (parity env restore), or --no-verify-env",
        )
    readiness.environment_verified = True
    readiness.environment_report = [d.to_dict() for d in differences if d.risk > 0]


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
    from parity.serve.state import Readiness
    from parity.workspace import open_workspace

    if not _is_loopback(host):
        warn(f"binding to {host}: the model server has no authentication; put it behind one")
    workspace = open_workspace()
    gate = None if no_verify_env else _start_environment_gate(workspace.root, reference)
    if no_verify_env:
        warn("environment verification skipped (--no-verify-env): serving unverified")
    readiness = Readiness(environment_verified=None)
    try:
        state = serving_state(workspace, reference, readiness, log_sample)
    except BaseException:
        if gate is not None:
            gate.kill()
            gate.communicate()
        raise
    if gate is not None:
        try:
            _finish_environment_gate(gate, readiness)
        except BaseException:
            state.close()
            raise
        state.publish_info()
    if not readiness.ready:
        warn("not ready: " + "; ".join(readiness.reasons))
    if workers == 1:
        uvicorn.run(
            create_app(state),
            host=host,
            port=port,
            log_level="warning",
            access_log=False,
            ws="none",  # no endpoint speaks WebSocket: skip importing a WebSocket library
        )
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
        ws="none",
    )
