"""``parity env``: fingerprint, compare and verify Python environments."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from parity.api import environments
from parity.cli.output import JSON_OPTION, console, print_json, print_table, say, warn
from parity.cli.reports import report_options, write_check_reports
from parity.core.errors import CheckFailed

if TYPE_CHECKING:
    from parity.core.env_rules import Difference

PYTHON_OPTION = click.option(
    "--python", default=None, help="Inspect this interpreter instead of the current one."
)
EXCLUDE_OPTION = click.option(
    "--exclude",
    "excluded",
    multiple=True,
    metavar="NAME",
    help="A package left out on purpose (e.g. your own editable project); repeatable.",
)


@click.group("env")
def env_group() -> None:
    """Fingerprint, compare and verify environments."""


_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


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
        say(f"[dim]{hidden} informational differences hidden (--all shows them)[/dim]", markup=True)


@env_group.command("capture")
@PYTHON_OPTION
@click.option(
    "--deep", is_flag=True, help="Re-hash installed files against RECORD; ask threadpoolctl."
)
@JSON_OPTION
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the fingerprint here.")
@click.option(
    "--store/--no-store",
    default=True,
    help="Store it in the workspace, when there is one (default), or only print / write it.",
)
def capture(
    python: str | None, deep: bool, json_output: bool, output: Path | None, store: bool
) -> None:
    """Fingerprint an environment and store it in the workspace."""
    captured = environments.record(python, deep=deep, store=store, output=output)
    environment = captured.environment
    if json_output:
        print_json(environment.to_document())
        return
    say(f"{environment.id}  {captured.description}")
    modified = [d.name for d in environment.distributions if d.modified_files]
    if modified:
        warn(f"locally modified packages: {', '.join(modified)}")
    if store and not captured.stored:
        warn("not stored: no Parity workspace here (run 'parity init')")


@env_group.command("show")
@click.argument("reference", default="current")
@PYTHON_OPTION
@JSON_OPTION
def show(reference: str, python: str | None, json_output: bool) -> None:
    """Show an environment: interpreter, platform, packages, native libraries.

    REFERENCE is an environment id, a fingerprint file, NAME@ALIAS, or current.
    """
    environment = environments.get(reference, python=python)
    if json_output:
        print_json(environment.to_document())
        return
    i, p = environment.interpreter, environment.platform
    say(f"[bold]environment {environment.id[:12]}[/bold]", markup=True)
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
    for skip in environment.skipped:
        say(f"skipped  {skip.what}: {skip.error}")
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


@env_group.command("diff")
@click.argument("expected")
@click.argument("actual", default="current")
@PYTHON_OPTION
@click.option("--all", "show_info", is_flag=True, help="Also show informational differences.")
@JSON_OPTION
def diff(
    expected: str, actual: str, python: str | None, show_info: bool, json_output: bool
) -> None:
    """Every difference between EXPECTED and ACTUAL (default: current), rated by risk.

    Each is an environment id, a fingerprint file, a Python interpreter's path, NAME@ALIAS,
    a run id, or current.
    """
    result = environments.diff(environments.get(expected), environments.get(actual, python=python))
    if json_output:
        print_json(result.to_dict())
        return
    if result.identical:
        say("identical")
        return
    print_differences(result.differences, show_info)


@env_group.command("verify")
@click.argument("target")
@PYTHON_OPTION
@click.option(
    "--threshold",
    default="high",
    type=click.Choice(["high", "medium", "low"]),
    help="Fail at or above this risk.",
)
@click.option("--strict", is_flag=True, help="Same as --threshold low.")
@EXCLUDE_OPTION
@JSON_OPTION
@report_options
def verify(
    target: str,
    python: str | None,
    threshold: str,
    strict: bool,
    excluded: tuple[str, ...],
    json_output: bool,
    junit_report: Path | None,
    markdown_report: Path | None,
) -> None:
    """Exit 0 when this (or --python's) environment is safe for TARGET, 1 otherwise.

    TARGET is the environment a model needs: an id, a fingerprint file, or NAME@ALIAS. After
    'env export --exclude NAME', pass the same --exclude: what became of NAME is only info.
    """
    # A name, not the Risk enum: the rules (and packaging) load only once they are applied.
    level = "low" if strict else threshold
    result = environments.verify(
        environments.get(target), python=python, threshold=level, exclude=excluded
    )
    if json_output:
        print_json(result.to_dict())
    else:
        print_differences(result.diff.differences, show_info=False)
        verdict = "[green]verified[/green]" if result.ok else "[bold red]not verified[/bold red]"
        console().print(
            f"{verdict}: {len(result.blocking)} differences at or above {level} "
            f"({len(result.diff.differences)} in all)"
        )
    write_check_reports(result, f"env verify {target}", junit_report, markdown_report, target)
    if not result.ok:
        names = ", ".join(d.subject for d in result.blocking[:5])
        raise CheckFailed(f"environment differs at {level} risk or above: {names}")
