"""Which reader reads a tracking URI: the one place a new kind of MLflow store is added."""

from __future__ import annotations

from parity.migrate.mlflow.source import MlflowSource


def open_mlflow_source(uri: str) -> MlflowSource:
    """The reader of an MLflow tracking URI; UsageError naming the URIs read when none fits.

    ``sqlite:///…`` and ``postgresql://…`` are read from MLflow's database directly.
    """
    from parity.migrate.mlflow.sql_reader import SqlMlflowSource  # lazy: SQLAlchemy on use

    return SqlMlflowSource(uri)
