"""``parity serve``: a registered model over HTTP, after its checks pass."""

from __future__ import annotations

import click

from parity.api import serving
from parity.api.serving import Listening
from parity.cli import completion
from parity.cli.output import say, warn
from parity.core.durations import parse_duration
from parity.core.env_rules import Difference
from parity.core.errors import EnvironmentMismatch, UsageError


def _ready(listening: Listening) -> None:
    """The lines a person waits for: each gate's verdict, then where to send requests."""
    for gate, verdict in listening.gates:
        say(f"{gate:<12} {verdict}")
    state = "ready" if listening.ready else "NOT READY (see the warnings above)"
    say(f"serving {listening.model} at {listening.url}: {state}; Ctrl-C stops")
    if listening.following:
        say(
            f"following {listening.following}: a version it moves to answers once it passes"
            " the same checks"
        )


def _poll_interval(_ctx: click.Context, _param: click.Parameter, value: str) -> float:
    try:
        return parse_duration(value) / 1000
    except UsageError as exc:
        raise click.BadParameter(str(exc)) from None


@click.command()
@click.argument("reference", shell_complete=completion.model_references)
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default)."
)
@click.option(
    "--port", default=8080, show_default=True, type=int, help="Port to listen on (0: any free)."
)
@click.option(
    "--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes."
)
@click.option(
    "--no-verify-env", is_flag=True, help="Serve even if the environment differs (unverified)."
)
@click.option(
    "--log-sample",
    default=0.1,
    show_default=True,
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
@click.option("--access-log", is_flag=True, help="Print one line per request on stdout.")
@click.option(
    "--record-deployment",
    "place",
    metavar="NAME",
    help="Once ready, record this server as the deployment at NAME (e.g. prod-eu).",
)
@click.option(
    "--deployment-image",
    envvar="PARITY_IMAGE",
    metavar="REF",
    help="The image recorded with --record-deployment [env: PARITY_IMAGE].",
)
@click.option(
    "--allow-unrestricted-pickle",
    is_flag=True,
    help="Load a model kept as a plain pickle (it may run any code): only if you trust its saver.",
)
@click.option(
    "--follow-alias",
    is_flag=True,
    help="Follow the alias: switch, without dropping a request, to each version it moves to"
    " once that version passes the same checks.",
)
@click.option(
    "--poll-interval",
    default="2s",
    show_default=True,
    callback=_poll_interval,
    metavar="DURATION",
    help="How often --follow-alias reads the alias (e.g. 2s, 1m).",
)
def serve(
    reference: str,
    host: str,
    port: int,
    workers: int,
    no_verify_env: bool,
    log_sample: float,
    max_body_mib: float,
    access_log: bool,
    place: str | None,
    deployment_image: str | None,
    allow_unrestricted_pickle: bool,
    follow_alias: bool,
    poll_interval: float,
) -> None:
    """Serve model REFERENCE (NAME@ALIAS) over HTTP after its checks pass.

    Once it listens it prints each check's verdict and its URL. Endpoints: /predict,
    /invocations (MLflow), /v2/... (Open Inference Protocol), /health, /metadata and /metrics
    (Prometheus). Each answer names the model version behind it (X-Model-Version header).
    With --follow-alias the server switches to each version the alias moves to once that
    version passes the same checks; a version that fails them is not served.
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
            access_log=access_log,
            on_warning=warn,
            on_ready=_ready,
            record_deployment=place,
            deployment_image=deployment_image,
            allow_unrestricted_pickle=allow_unrestricted_pickle,
            follow_alias=follow_alias,
            poll_interval=poll_interval,
            on_switch=say,
        )
    except EnvironmentMismatch as refused:
        from parity.cli.env_commands import (
            print_differences,
        )  # lazy: the differences' table loads only when there are differences to print

        shown = tuple(d for d in refused.differences if isinstance(d, Difference))
        print_differences(shown, show_info=False)
        raise
