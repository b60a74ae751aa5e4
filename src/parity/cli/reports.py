"""The CI report options every check command shares: ``--junit FILE`` and ``--markdown FILE``.

A check command passes its result to ``write_check_reports``, which makes it a one-check gate
verdict and writes the reports ``parity gate`` writes (the Markdown also to
``$GITHUB_STEP_SUMMARY`` when that is set), before the command decides its exit code.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

REPORT_PATH = click.Path(path_type=Path, dir_okay=False)


def report_options(command: F) -> F:
    """Add ``--junit FILE`` and ``--markdown FILE`` to a check command."""
    command = click.option(
        "--markdown",
        "markdown_report",
        type=REPORT_PATH,
        help="Also write a Markdown summary (appended to $GITHUB_STEP_SUMMARY when set).",
    )(command)
    return click.option(
        "--junit", "junit_report", type=REPORT_PATH, help="Also write a JUnit XML report."
    )(command)


def write_check_reports(
    result: object,
    name: str,
    junit: Path | None,
    markdown: Path | None,
    subject: str | None = None,
) -> None:
    if junit is None and markdown is None:
        return
    from parity.api import gate  # lazy: the gate's renderers, only when a report is asked for

    verdict = gate.verdict_of(result, name, subject=subject)
    for path in gate.write_reports(verdict, junit=junit, markdown=markdown):
        click.echo(f"wrote {path}", err=True)
