"""The ``parity`` command: one Typer app, command groups mounted from their own modules.

Heavy libraries are imported inside commands, never here, so ``parity --help`` stays fast.
One handler turns every ParityError into ``error: <message> (<hint>)`` and its exit code.
"""

from __future__ import annotations

import sys

import typer

from parity import __version__
from parity.cli import workspace_commands
from parity.cli.env_commands import env_app
from parity.cli.models_commands import models_app
from parity.cli.monitor_commands import monitor_app
from parity.cli.object_commands import object_app
from parity.cli.serve_commands import serve
from parity.core.errors import ParityError

app = typer.Typer(
    name="parity",
    help="Keep ML development and production in parity: environment, data, code, runs, models.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _show_version(value: bool) -> None:
    if value:
        from parity.env.capture import capture

        typer.echo(f"parity {__version__} (environment {capture().id[:12]})")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_show_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Keep ML development and production in parity."""


workspace_commands.register(app)
app.add_typer(object_app, name="object")
app.add_typer(env_app, name="env")
app.add_typer(models_app, name="models")
app.command("serve")(serve)
app.add_typer(monitor_app, name="monitor")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return (and, as a script, exit with) the documented exit code."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="parity", standalone_mode=False)
    except ParityError as exc:
        from parity.cli.output import err_console

        hint = f" ({exc.hint})" if exc.hint else ""
        err_console().print(f"error: {exc.message}{hint}", markup=False)
        return exc.exit_code
    except typer.Exit as exc:
        return exc.exit_code
    except typer.TyperException as exc:
        # Typer's own usage errors (unknown option, missing argument) show themselves.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            print(f"error: {exc.format_message()}", file=sys.stderr)
        return exc.exit_code
    except typer.Abort:
        print("aborted", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())
