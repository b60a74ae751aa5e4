"""How commands print: Rich tables for people, JSON for machines, messages on stderr."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

import click

from parity.cli.plain import write_markup, write_table
from parity.core.errors import NotFoundError

if TYPE_CHECKING:
    from rich.console import Console


JSON_OPTION = click.option("--json", "json_output", is_flag=True, help="Print JSON.")
# Sizes are binary everywhere (summaries, tables and progress bars alike): KiB, MiB, GiB.
_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")


class ExistingPath(click.Path):
    """A path that must exist; a missing one is "not found" (exit 3), as the README promises,
    not Click's usage error (exit 2)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(exists=True, **kwargs)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not os.path.lexists(os.fsdecode(value)):
            raise NotFoundError(
                f"{os.fsdecode(value)}: no such file or folder", hint="check the path"
            )
        return super().convert(value, param, ctx)


def human_size(size: float) -> str:
    """``1536`` → ``1.5 KiB``: the one way sizes are written for people."""
    value = float(size)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


@cache
def console() -> Console:
    from rich.console import Console  # lazy: Rich (~60 ms) loads only when a command prints

    # Piped output is read by programs and greps: never truncate it to 80 columns.
    return Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 200)


@cache
def err_console() -> Console:
    from rich.console import Console  # lazy: Rich (~60 ms) loads only when a command prints

    return Console(stderr=True, highlight=False, soft_wrap=True)


def print_json(document: Any) -> None:
    """Machine-readable output: plain JSON on stdout, never styled."""
    sys.stdout.write(json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def print_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None
) -> None:
    shown = [["" if cell is None else str(cell) for cell in row] for row in rows]
    if write_table(columns, shown, title):  # what Rich would write, without loading it
        return
    from rich.table import Table  # lazy: Rich (~60 ms) loads only when a command prints

    table = Table(title=title, title_justify="left", header_style="bold")
    for column in columns:
        table.add_column(column)
    for row in shown:
        table.add_row(*row)
    console().print(table)


def say(message: str, markup: bool = False) -> None:
    """One line for people. Plain by default: Rich is only loaded for markup and tables."""
    if markup:
        if not write_markup(message):
            console().print(message)
    else:
        click.echo(message)


def warn(message: str) -> None:
    click.echo(f"warning: {message}", err=True)


def hint(message: str) -> None:
    """What to try next, on stderr, so that stdout stays the answer."""
    click.echo(f"hint: {message}", err=True)
