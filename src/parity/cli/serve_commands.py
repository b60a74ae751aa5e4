"""``parity serve``: a registered model over HTTP, after its checks pass."""

from __future__ import annotations

import click

from parity.api import serving
from parity.cli.env_commands import print_differences
from parity.cli.output import warn
from parity.core.env_rules import Difference
from parity.core.errors import EnvironmentMismatch


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
    try:
        serving.serve(
            reference,
            host=host,
            port=port,
            workers=workers,
            verify_env=not no_verify_env,
            sample_rate=log_sample,
            max_body_bytes=int(max_body_mib * 1024 * 1024),
            on_warning=warn,
        )
    except EnvironmentMismatch as refused:
        shown = tuple(d for d in refused.differences if isinstance(d, Difference))
        print_differences(shown, show_info=False)
        raise
