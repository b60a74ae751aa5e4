"""The ``parity`` command: one Click group, command groups mounted from their own modules.

Heavy libraries are imported inside commands, never here, so ``parity --help`` stays fast.
One handler turns every error, Parity's and Click's usage errors alike, into one line,
``error: <message> (<hint>)``, and its exit code; with ``--json``, into
``{"error": …, "code": …, "hint": …}`` on stderr.
"""

from __future__ import annotations

import importlib
import json
import sys

import click

from parity import __version__
from parity.core.errors import ParityError
from parity.core.file_errors import file_error

# Each command lives in its own module, imported only when that command runs, so that every
# command module may import the API it calls at the top. The short help is kept here for
# ``parity --help``; a test checks it against each command's own docstring.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "completion": (
        "parity.cli.completion",
        "completion",
        "Print the shell completion script for SHELL (bash, zsh or fish).",
    ),
    "data": (
        "parity.cli.data_transfer_commands",
        "data_group",
        "Version data files and folders; git versions their small PATH.parity pointers.",
    ),
    "deploy": (
        "parity.cli.deploy_commands",
        "deploy_group",
        "Export a model for Kubernetes, KServe or compose; record and list what runs where.",
    ),
    "env": (
        "parity.cli.env_lock_commands",
        "env_group",
        "Fingerprint, compare and verify environments.",
    ),
    "events": (
        "parity.cli.events_commands",
        "events_group",
        "Webhooks for registry, monitor and deployment events; the event and delivery log.",
    ),
    "export": (
        "parity.cli.export_commands",
        "export_group",
        "Write runs and model versions into another tool's store, so a team can leave freely.",
    ),
    "gate": (
        "parity.cli.gate_commands",
        "gate_command",
        "Evaluate the gate policy's checks into one verdict; exit 0 pass, 1 fail, 2 not evaluated.",
    ),
    "import": (
        "parity.cli.import_commands",
        "import_group",
        "Bring history in from MLflow (runs, metrics, artifacts, models) and DVC (data, commits).",
    ),
    "infra": (
        "parity.cli.infra_commands",
        "infra_group",
        "Infrastructure files in lineage: what a run stored, and diffs between runs.",
    ),
    "init": (
        "parity.cli.workspace_commands",
        "init",
        "Create a Parity workspace (.parity/ with config, database and object store).",
    ),
    "login": (
        "parity.cli.login_commands",
        "login",
        "Sign in to the Parity server at URL with a token; it is kept in your config folder.",
    ),
    "models": (
        "parity.cli.models_commands",
        "models_group",
        "Register, promote, lock and inspect model versions.",
    ),
    "monitor": ("parity.cli.monitor_commands", "monitor_group", "Watch served models."),
    "object": (
        "parity.cli.object_commands",
        "object_group",
        "Low-level access to the object store.",
    ),
    "remote": (
        "parity.cli.remote_commands",
        "remote_group",
        "Add, list and delete data remotes (s3://, file:// or a folder).",
    ),
    "repro": (
        "parity.cli.repro_commands",
        "repro_command",
        "Re-run RUN (or the run behind MODEL_REF) in its environment, code and data; compare.",
    ),
    "run": (
        "parity.cli.run_commands",
        "run",
        "Run COMMAND as a tracked run: code, environment, params, data, output and exit code.",
    ),
    "runs": (
        "parity.cli.runs_commands",
        "runs_group",
        "List, search, show, compare, delete and undelete runs; read a metric's history.",
    ),
    "serve": (
        "parity.cli.serve_commands",
        "serve",
        "Serve model REFERENCE (NAME@ALIAS) over HTTP after its checks pass.",
    ),
    "server": (
        "parity.cli.server_commands",
        "server_group",
        "Run a team server and manage its users, tokens and grants.",
    ),
    "status": (
        "parity.cli.workspace_commands",
        "status",
        "Show the workspace, its stores and what they hold.",
    ),
    "ui": (
        "parity.cli.server_commands",
        "ui_command",
        "Open the web UI of this workspace on 127.0.0.1 and print its URL.",
    ),
}


def load_command(name: str) -> click.Command:
    """The command ``name``, importing its module now."""
    module, attribute, _ = COMMANDS[name]
    command = getattr(importlib.import_module(module), attribute)
    assert isinstance(command, click.Command)
    return command


class LazyGroup(click.Group):
    """A group whose commands are imported when invoked, not when the group is built."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _show_version(context: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not context.resilient_parsing:
        from parity.api.environments import capture  # lazy: only --version fingerprints

        click.echo(f"parity {__version__} (environment {capture().id[:12]})")
        context.exit()


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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


def _wants_json(args: list[str]) -> bool:
    """Whether the command line asks for JSON: ``--json`` before any ``--``, and not among the
    arguments of the command ``parity run`` wraps."""
    own = args[: args.index("--")] if "--" in args else args
    return "--json" in own and own[:1] != ["run"]


def _report(message: str, hint: str | None, code: int, as_json: bool) -> int:
    if as_json:
        document = {"error": message, "code": code, "hint": hint}
        sys.stderr.write(json.dumps(document, sort_keys=True) + "\n")
    else:
        from parity.cli.output import err_console  # lazy: Rich loads only to print an error

        shown = f" ({hint})" if hint else ""
        err_console().print(f"error: {message}{shown}", markup=False)
    return code


def _usage(exc: click.UsageError) -> tuple[str, str]:
    """Click's usage error in Parity's words: one line, lower case, and where help is."""
    message = exc.format_message().strip().rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    command = exc.ctx.command_path if exc.ctx is not None else "parity"
    message = message.replace("\n", " ").replace(". Did you mean", "; did you mean")
    return message, f"see '{command} --help'"


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the documented exit code."""
    args = sys.argv[1:] if argv is None else list(argv)
    as_json = _wants_json(args)
    try:
        try:
            result = cli.main(args=args, prog_name="parity", standalone_mode=False)
        except OSError as exc:
            # The services translate what they expect; a file-system failure nobody foresaw
            # is still one line with its path and a hint, never a traceback.
            raise file_error(exc) from exc
    except ParityError as exc:
        return _report(exc.message, exc.hint, exc.exit_code, as_json)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:
        exc.show()  # a group named alone: its help, not an error line
        return exc.exit_code
    except click.UsageError as exc:
        return _report(*_usage(exc), exc.exit_code, as_json)
    except click.ClickException as exc:
        return _report(exc.format_message(), None, exc.exit_code, as_json)
    except (click.exceptions.Abort, KeyboardInterrupt):
        print("interrupted", file=sys.stderr)
        return 130
    return result if isinstance(result, int) else 0


def run() -> None:
    sys.exit(main())
