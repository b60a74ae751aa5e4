"""``parity import dvc``: DVC's outputs as data versions, its history and stages as well."""

from __future__ import annotations

from pathlib import Path

import click

from parity.api import migrate
from parity.cli.data_commands import progress_bar
from parity.cli.output import JSON_OPTION, human_size, print_json, say


@click.command("dvc")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--all-commits",
    is_flag=True,
    help="Also import every version committed in git history, tied to its commit.",
)
@click.option("--dry-run", is_flag=True, help="Only count what an import would add.")
@JSON_OPTION
def import_dvc(
    paths: tuple[Path, ...], all_commits: bool, dry_run: bool, json_output: bool
) -> None:
    """Import DVC data, its git history and stages.

    Every output of the .dvc files and dvc.lock files (under PATHS, when given) becomes a data
    version with its pointer beside it; every dvc.lock stage becomes a run in experiment dvc.
    Bytes come from DVC's cache or its default remote, each checked against DVC's md5.
    """
    with progress_bar("importing from DVC") as update:
        report = migrate.import_dvc(
            paths, all_commits=all_commits, dry_run=dry_run, progress=update
        )
    if json_output:
        print_json(report.to_dict())
        return
    would = "would add" if report.dry_run else "added"
    say(
        f"data versions: {report.versions_added} {would}, {report.versions_known} already here"
        + ("" if report.dry_run else f" ({human_size(report.bytes_read)} read from DVC)")
    )
    say(f"commit links: {report.commits_linked} {would} ({report.commits} commits read)")
    say(f"pointers: {report.pointers_written} {'to write' if report.dry_run else 'written'}")
    say(f"runs: {report.runs_added} {would}, {report.runs_known} already here")
