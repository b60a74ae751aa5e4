"""The ``parity`` command: one Click group, command groups mounted from their own modules.

Heavy libraries are imported inside commands, never here, so ``parity --help`` stays fast.
One handler turns every ParityError into ``error: <message> (<hint>)`` and its exit code.
"""

from __future__ import annotations

import sys

import click

import parity.cli.env_lock_commands  # noqa: F401  (attaches export/restore/check-lock/audit to env)
from parity import __version__
from parity.cli import data_transfer_commands  # noqa: F401  (attaches push, pull, validate to data)
from parity.cli.data_commands import data_group
from parity.cli.env_commands import env_group
from parity.cli.models_commands import models_group
from parity.cli.monitor_commands import monitor_group
from parity.cli.object_commands import object_group
from parity.cli.remote_commands import remote_group
from parity.cli.run_commands import run as run_command
from parity.cli.runs_commands import runs_group
from parity.cli.serve_commands import serve
from parity.cli.workspace_commands import init, status
from parity.core.errors import ParityError


def _show_version(context: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not context.resilient_parsing:
        from parity.env.capture import capture

        click.echo(f"parity {__version__} (environment {capture().id[:12]})")
        context.exit()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and Parity's own environment id.",
)
def cli() -> None:
    """Keep ML development and production in parity: environment, data, code, runs, models."""


for command in (
    init,
    status,
    object_group,
    env_group,
    models_group,
    serve,
    monitor_group,
    remote_group,
    run_command,
    runs_group,
    data_group,
):
    cli.add_command(command)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the documented exit code."""
    try:
        result = cli.main(args=argv, prog_name="parity", standalone_mode=False)
    except ParityError as exc:
        from parity.cli.output import err_console

        hint = f" ({exc.hint})" if exc.hint else ""
        err_console().print(f"error: {exc.message}{hint}", markup=False)
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())
