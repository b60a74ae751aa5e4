"""``parity infra``: the infrastructure files runs stored, and how two runs' files differ."""

from __future__ import annotations

import click

from parity.api import infra
from parity.cli import completion
from parity.cli.output import JSON_OPTION, print_json, print_table, say

RUN_A = click.argument("run_a", metavar="RUN_A", shell_complete=completion.run_ids)
RUN_B = click.argument("run_b", metavar="RUN_B", shell_complete=completion.run_ids)


@click.group("infra")
def infra_group() -> None:
    """Infrastructure files in lineage: what a run stored, and diffs between runs."""


@infra_group.command("show")
@click.argument("run", shell_complete=completion.run_ids)
@JSON_OPTION
def show(run: str, json_output: bool) -> None:
    """The infrastructure files RUN stored: path, digest, size, what was redacted or refused."""
    snapshot = infra.show(run)
    if json_output:
        print_json(snapshot.to_dict())
        return
    print_table(
        ["file", "digest", "size", "redacted"],
        [(f.path, f.digest[:12], f.size, ", ".join(f.redacted)) for f in snapshot.files],
    )
    for refused in snapshot.refused:
        say(f"not stored: {refused.path} ({refused.reason})")


@infra_group.command("diff")
@RUN_A
@RUN_B
@JSON_OPTION
def diff(run_a: str, run_b: str, json_output: bool) -> None:
    """The file diffs between the infrastructure RUN_A and RUN_B stored."""
    result = infra.diff(run_a, run_b)
    if json_output:
        print_json(result.to_dict())
        return
    if result.infra_a is None and result.infra_b is None:
        say("neither run stored infrastructure files")
        return
    if result.identical:
        say(f"infrastructure identical: {len(result.files)} files")
        return
    for file in result.changed:
        say(f"{file.change.status}: {file.change.path}")
        click.echo(file.diff, nl=False)
