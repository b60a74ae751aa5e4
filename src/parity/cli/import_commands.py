"""``parity import``: bring history in from other tools (each source in its own module)."""

from __future__ import annotations

import click

from parity.cli.import_dvc_command import import_dvc
from parity.cli.import_mlflow_command import import_mlflow


@click.group("import")
def import_group() -> None:
    """Bring history in from MLflow (runs, metrics, artifacts, models) and DVC (data, commits)."""


import_group.add_command(import_dvc)
import_group.add_command(import_mlflow)
