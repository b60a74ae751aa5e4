"""``parity data push | pull | validate``: share data versions through a remote, check tables."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from parity.api import data
from parity.api.data import SyncReport
from parity.cli.data_commands import data_group
from parity.cli.output import (
    JSON_OPTION,
    ExistingPath,
    err_console,
    human_size,
    print_json,
    print_table,
    say,
)
from parity.cli.reports import report_options, write_check_reports
from parity.core.errors import CheckFailed, ConflictError, StorageError

_SHOWN_FAILURES = 10
_PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
_REMOTE = click.option("-r", "--remote", "remote_name", help="The remote (default: the default).")
_JOBS = click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Objects in flight (default 16 for S3)."
)


class _BarProgress:
    """A Rich progress bar on stderr, counting objects (packs are up to 64 MiB each)."""

    def __init__(self, bar: Any, label: str) -> None:
        self.bar = bar
        self.label = label
        self.task: Any = None

    def planned(self, objects: int, skipped: int) -> None:
        self.task = self.bar.add_task(f"{self.label} ({skipped} already there)", total=objects)

    def copied(self, digest: str, size: int) -> None:
        self.bar.advance(self.task)


@contextlib.contextmanager
def _progress(label: str) -> Iterator[_BarProgress | None]:
    """A progress bar when stderr is a terminal; nothing when it is read by a program."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import Progress  # lazy: Rich only loads when a terminal shows the bar

    with Progress(console=err_console(), transient=True) as bar:
        yield _BarProgress(bar, label)


def _report(report: SyncReport, verb: str, command: str, json_output: bool) -> None:
    result = report.result
    if json_output:
        print_json(report.to_dict())
    else:
        failures = sorted(result.failed.items())
        for digest, reason in failures[:_SHOWN_FAILURES]:
            say(f"failed: {digest[:12]}: {reason}")
        if len(failures) > _SHOWN_FAILURES:
            say(f"… and {len(failures) - _SHOWN_FAILURES} more (--json lists them all)")
        size = human_size(result.bytes_copied)
        say(
            f"{verb} {len(result.done)} objects ({size}) of {len(report.versions)} data "
            f"versions, {len(result.skipped)} already there; remote {report.remote.name}"
        )
    if not result.ok:
        first = result.first_error
        cause = f": {first.message}" if first else ""
        then = f"{first.hint}; then " if first and first.hint else "fix the cause, then "
        raise StorageError(
            f"{len(result.failed)} objects could not be copied{cause}",
            hint=f"{then}run 'parity data {command}' again: it resumes",
        )


@data_group.command("push")
@_PATHS
@_REMOTE
@_JOBS
@JSON_OPTION
def push(
    paths: tuple[Path, ...], remote_name: str | None, jobs: int | None, json_output: bool
) -> None:
    """Send the data versions of PATHS (default: every pointer) to a remote; only what it lacks."""
    with _progress("push") as progress:
        report = data.push(paths, remote=remote_name, jobs=jobs, progress=progress)
    _report(report, "Pushed", "push", json_output)


@data_group.command("pull")
@_PATHS
@_REMOTE
@_JOBS
@click.option("--verify", is_flag=True, help="Re-hash local copies too; fetch corrupt ones again.")
@click.option(
    "--no-checkout", is_flag=True, help="Only fetch: leave the files as they are (checkout later)."
)
@JSON_OPTION
def pull(
    paths: tuple[Path, ...],
    remote_name: str | None,
    jobs: int | None,
    verify: bool,
    no_checkout: bool,
    json_output: bool,
) -> None:
    """Fetch the data versions of PATHS (default: every pointer) from a remote and check them out.

    Files you changed are never overwritten: such a path is left as it is (exit 4, naming it).
    """
    with _progress("pull") as progress:
        report = data.pull(
            paths,
            remote=remote_name,
            jobs=jobs,
            progress=progress,
            verify=verify,
            checkout=not no_checkout,
        )
    _report(report, "Pulled", "pull", json_output)
    if not json_output:
        for key, result in report.checked_out:
            say(
                f"{key}: {len(result.written)} written, {len(result.removed)} removed, "
                f"{result.unchanged} unchanged"
            )
        for key, reason in report.not_checked_out:
            say(f"{key}: not checked out: {reason}")
    if report.not_checked_out:
        keys = " ".join(key for key, _ in report.not_checked_out)
        raise ConflictError(
            f"pulled, but {len(report.not_checked_out)} paths were not checked out: {keys}",
            hint=(
                f"version your changes with 'parity data add {keys}', "
                f"or drop them with 'parity data checkout --force {keys}'"
            ),
        )


@data_group.command("validate")
@click.argument("path", type=ExistingPath(dir_okay=False, path_type=Path))
@click.option(
    "--schema",
    "schema_path",
    required=True,
    type=ExistingPath(dir_okay=False, path_type=Path),
    help="A pandera schema: YAML, or a Python file defining 'schema'.",
)
@JSON_OPTION
@report_options
def validate(
    path: Path,
    schema_path: Path,
    json_output: bool,
    junit_report: Path | None,
    markdown_report: Path | None,
) -> None:
    """Check the table at PATH (CSV or Parquet) against a schema; exit 1 listing what failed.

    The result is recorded on PATH's data version.
    """
    outcome = data.validate(path, schema_path)
    validation = outcome.validation
    if json_output:
        print_json(
            {**validation.to_dict(), "record": outcome.record_id, "versioned": outcome.versioned}
        )
    else:
        if validation.failures:
            print_table(
                ["column", "check", "failures", "examples"],
                [
                    (f.column or "(table)", f.check, f.failure_cases, "; ".join(f.examples))
                    for f in validation.failures
                ],
                title=f"Failed checks on {path}",
            )
        kind = "data version" if outcome.versioned else "content (not versioned)"
        verdict = "passed" if validation.ok else f"failed {len(validation.failures)} checks"
        say(
            f"{path}: {validation.rows} rows {verdict}; recorded as {outcome.record_id[:12]} "
            f"on {kind} {validation.data_version[:12]}"
        )
    write_check_reports(outcome, f"validate {path}", junit_report, markdown_report, str(path))
    if not validation.ok:
        raise CheckFailed(f"{path} failed {len(validation.failures)} checks of {schema_path}")
