"""``parity import``: bring history in from other tools (each source in its own module)."""

from __future__ import annotations

import click

from parity.cli.import_dvc_command import import_dvc


@click.group("import")
def import_group() -> None:
    """Bring history in from DVC (data versions, commits, pipeline stages)."""


import_group.add_command(import_dvc)
