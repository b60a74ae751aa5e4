"""A command that lets an OSError escape untranslated, to test the CLI's one handler."""

from __future__ import annotations

import click


@click.command("raw")
@click.argument("path")
def raw(path: str) -> None:
    """Open a path."""
    with open(path, "rb") as handle:
        handle.read()
