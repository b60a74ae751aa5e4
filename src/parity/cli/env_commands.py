"""``parity env``: fingerprint, compare and verify Python environments."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from parity.cli.output import console, print_json, print_table, say, warn

if TYPE_CHECKING:
    from parity.core.env_rules import Difference
    from parity.core.environment import Environment
    from parity.workspace import Workspace

env_app = typer.Typer(help="Fingerprint, compare and verify environments.", no_args_is_help=True)

PYTHON = typer.Option(None, "--python", help="Inspect this interpreter instead of the current one.")
JSON = typer.Option(False, "--json", help="Print JSON.")
_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def _workspace() -> Workspace | None:
    from parity.core.errors import NotFoundError
    from parity.workspace import open_workspace

    try:
        return open_workspace()
    except NotFoundError:
        return None


def _resolve(reference: str, python: str | None = None) -> Environment:
    from parity.api.environments import resolve_environment

    return resolve_environment(reference, _workspace(), python)


def print_differences(differences: tuple[Difference, ...], show_info: bool) -> None:
    shown = [d for d in differences if show_info or d.risk > 0]
    hidden = len(differences) - len(shown)
    if shown:
        table_rows = [
            (
                f"[{_STYLE[str(d.risk)]}]{d.risk}[/]",
                d.subject,
                d.expected or "-",
                d.actual or "-",
                d.reason,
            )
            for d in shown
        ]
        print_table(["risk", "what", "expected", "actual", "why"], table_rows)
    if hidden:
        say(f"[dim]{hidden} informational differences hidden (--all shows them)[/dim]")


@env_app.command("capture")
def capture(
    python: str | None = PYTHON,
    deep: bool = typer.Option(
        False, "--deep", help="Re-hash installed files against RECORD; ask threadpoolctl for BLAS."
    ),
    json_output: bool = JSON,
    output: Path | None = typer.Option(None, "-o", "--output", help="Write the fingerprint here."),
) -> None:
    """Fingerprint an environment and store it in the workspace."""
    from parity.env.capture import capture as take
    from parity.env.records import describe, store_environment
    from parity.store.objects.local import atomic_write_bytes
    from parity.workspace import now_ms

    environment = take(python, deep=deep)
    workspace = _workspace()
    environment_id = environment.id
    if workspace is not None:
        store_environment(workspace.records, environment, now_ms())
    if output is not None:
        document = environment.to_record().to_dict()
        atomic_write_bytes(output, json.dumps(document, indent=2, sort_keys=True).encode())
    if json_output:
        print_json({"id": environment_id, **environment.to_dict()})
        return
    say(f"{environment_id}  {describe(environment)}")
    modified = [d.name for d in environment.distributions if d.modified_files]
    if modified:
        warn(f"locally modified packages: {', '.join(modified)}")
    if workspace is None:
        warn("not stored: no Parity workspace here (run 'parity init')")


@env_app.command("show")
def show(
    reference: str = typer.Argument("current", help="Environment id, file, NAME@ALIAS or current."),
    python: str | None = PYTHON,
    json_output: bool = JSON,
) -> None:
    """Show an environment: interpreter, platform, packages, native libraries."""
    environment = _resolve(reference, python)
    if json_output:
        print_json({"id": environment.id, **environment.to_dict()})
        return
    i, p = environment.interpreter, environment.platform
    say(f"[bold]environment {environment.id[:12]}[/bold]")
    say(f"python   {i.implementation} {i.version} ({i.abi}) at {i.prefix}")
    say(f"platform {p.os_release} · {p.system} {p.machine} · {p.libc_family} {p.libc_version}")
    say(f"cpu      {p.cpu_model} x{p.cpu_count} · {' '.join(p.cpu_flags)}")
    for lib in environment.native:
        say(f"native   {lib.user_api} {lib.internal_api} {lib.version or ''} ({lib.filename})")
    accel = environment.accelerators
    if accel.nvidia_driver or accel.cuda_runtime:
        say(f"cuda     runtime {accel.cuda_runtime} · driver {accel.nvidia_driver} · {accel.gpus}")
    for name, value in sorted(environment.numerics.items()):
        say(f"env      {name}={value}")
    print_table(
        ["package", "version", "native", "source", "installer"],
        [
            (
                d.name,
                d.version,
                {True: "", False: "yes", None: "?"}[d.pure],
                d.source.kind + (f" {d.source.commit[:10]}" if d.source.commit else ""),
                d.installer or "",
            )
            for d in environment.distributions
        ],
    )


@env_app.command("diff")
def diff(
    expected: str = typer.Argument(..., help="The environment to compare against."),
    actual: str = typer.Argument("current", help="The other environment (default: current)."),
    python: str | None = PYTHON,
    show_info: bool = typer.Option(False, "--all", help="Also show informational differences."),
    json_output: bool = JSON,
) -> None:
    """Every difference between two environments, rated high / medium / low / info."""
    from parity.env import diff as compare

    result = compare(_resolve(expected), _resolve(actual, python))
    if json_output:
        print_json(result.to_dict())
        return
    if result.identical:
        say("identical")
        return
    print_differences(result.differences, show_info)


@env_app.command("verify")
def verify(
    target: str = typer.Argument(..., help="The environment a model needs (id, file, NAME@ALIAS)."),
    python: str | None = PYTHON,
    threshold: str = typer.Option("high", help="Fail at or above: high, medium or low."),
    strict: bool = typer.Option(False, "--strict", help="Same as --threshold low."),
    json_output: bool = JSON,
) -> None:
    """Exit 0 when this (or --python's) environment is safe for TARGET, 1 otherwise."""
    from parity.core.env_rules import Risk
    from parity.core.errors import CheckFailed
    from parity.env import verify as check

    level = Risk.LOW if strict else Risk.parse(threshold)
    result = check(_resolve(target), python=python, threshold=level)
    if json_output:
        print_json(result.to_dict())
    else:
        print_differences(result.diff.differences, show_info=False)
        verdict = "[green]verified[/green]" if result.ok else "[bold red]not verified[/bold red]"
        console().print(
            f"{verdict}: {len(result.blocking)} differences at or above {level} "
            f"({len(result.diff.differences)} in all)"
        )
    if not result.ok:
        names = ", ".join(d.subject for d in result.blocking[:5])
        raise CheckFailed(f"environment differs at {level} risk or above: {names}")
