"""Moving in and out: import history from MLflow and DVC, export runs and models back to MLflow.

>>> parity.api.migrate.export_mlflow(["6650c1f3"], to="http://127.0.0.1:5000")  # doctest: +SKIP

docs/migrate.md walks through a move, and running both tools side by side during one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from parity.api._session import session
from parity.migrate.mlflow_export.exporter import ExportResult, MlflowExport
from parity.migrate.mlflow_export.rest_writer import MlflowWriter
from parity.migrate.mlflow_export.target import served
from parity.workspace import Workspace

__all__ = ["ExportResult", "export_mlflow"]


def export_mlflow(
    runs: Sequence[str],
    *,
    to: str,
    models: Sequence[str] = (),
    mlflow: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    workspace: Workspace | None = None,
) -> ExportResult:
    """Write runs (params, tags, metric histories, inputs, artifacts) and the versions and
    aliases of ``models`` into the MLflow tracking store at ``to``; returns what was written.

    ``to`` is an MLflow server (``http(s)://…``, with MLFLOW_TRACKING_TOKEN if it asks) or a
    store MLflow opens (``sqlite:///mlflow.db``, ``postgresql://…``, ``./mlruns``), which is
    served for the export by the ``mlflow`` program on PATH or at ``mlflow``. Runs already
    exported are skipped; a run whose export stopped halfway is written again. A model version
    goes with the run that logged it. What could not be exported is in ``result.failed``.

    >>> parity.api.migrate.export_mlflow([], models=["churn"], to="sqlite:///mlflow.db")
    ... # doctest: +SKIP
    """
    with session(workspace) as ws:
        run_ids = [ws.runs.find(reference).id for reference in runs]
        for name in models:
            ws.registry.versions(name)  # an unknown model is NotFoundError before MLflow starts
        with served(to, mlflow=mlflow, cwd=Path.cwd()) as (url, local_artifacts):
            writer = MlflowWriter(url, local_artifacts=local_artifacts)
            try:
                export = MlflowExport(
                    ws.runs,
                    ws.registry,
                    ws.records,
                    writer,
                    target=to,
                    progress=progress or (lambda _kind, _done, _total: None),
                )
                return export.export(run_ids, models)
            finally:
                writer.close()
