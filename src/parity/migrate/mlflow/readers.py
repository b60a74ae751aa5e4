"""Which reader reads a tracking URI: the one place a new kind of MLflow store is added."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from parity.core.errors import UsageError
from parity.migrate.mlflow.source import MlflowSource

SQL_SCHEMES = ("sqlite", "postgresql", "postgresql+psycopg", "postgres")


def open_mlflow_source(uri: str) -> MlflowSource:
    """The reader of an MLflow tracking URI; UsageError naming the URIs read when none fits.

    ``sqlite:///…`` and ``postgresql://…`` are read from MLflow's database directly; an
    ``http(s)://`` MLflow server through its REST API; ``./mlruns`` or ``file:///…/mlruns``
    (a file store) from its files.
    """
    scheme = urlsplit(uri).scheme
    if scheme in SQL_SCHEMES:
        from parity.migrate.mlflow.sql_reader import SqlMlflowSource  # lazy: SQLAlchemy on use

        return SqlMlflowSource(uri)
    if scheme in ("http", "https"):
        from parity.migrate.mlflow.rest_reader import RestSource  # lazy: httpx on use

        return RestSource(uri)
    if scheme == "file" or (scheme == "" and Path(uri).is_dir()):
        from parity.migrate.mlflow.file_reader import FileStoreSource  # lazy: PyYAML on use

        return FileStoreSource(uri)
    raise UsageError(
        f"cannot read an MLflow store at {uri!r}",
        hint="use sqlite:///mlflow.db, postgresql://…, http(s)://SERVER or a ./mlruns folder",
    )
