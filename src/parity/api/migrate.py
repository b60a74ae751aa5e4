"""Moving in and out: import history from DVC (and MLflow), export runs and models to MLflow.

>>> from parity.api import migrate
>>> migrate.import_dvc(all_commits=True).versions_added    # doctest: +SKIP
6
>>> migrate.export_mlflow(["6650c1f3"], to="http://127.0.0.1:5000")  # doctest: +SKIP

docs/migrate.md walks through a move, and running both tools side by side during one.

Each call opens the current folder's workspace unless given ``workspace=``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from parity.api._adding import chunk_threshold
from parity.api._session import session
from parity.core.errors import UsageError
from parity.data.git import toplevel
from parity.data.progress import Progress, no_progress
from parity.migrate.dvc.config import read_config
from parity.migrate.dvc.history import at_commit, committed, head_commit, work_tree
from parity.migrate.dvc.importer import DvcImporter, DvcImportReport
from parity.migrate.dvc.objects import DvcObjects
from parity.migrate.dvc.versioning import Versioning
from parity.migrate.mlflow_export.exporter import ExportResult, MlflowExport
from parity.migrate.mlflow_export.rest_writer import MlflowWriter
from parity.migrate.mlflow_export.target import served
from parity.workspace import Workspace, now_ms

__all__ = ["DvcImportReport", "ExportResult", "export_mlflow", "import_dvc"]

PathLike = str | os.PathLike[str]


def import_dvc(
    paths: Sequence[PathLike] = (),
    *,
    all_commits: bool = False,
    dry_run: bool = False,
    progress: Progress = no_progress,
    workspace: Workspace | None = None,
) -> DvcImportReport:
    """Import a DVC project: its outputs become data versions, its stages become runs.

    Every DVC-tracked output (``*.dvc`` files and ``dvc.lock`` outputs; only those under
    ``paths`` when given) becomes a Parity data version with its pointer beside it, and every
    ``dvc.lock`` stage a run in experiment ``dvc``.

    Bytes come from DVC's cache, else its default remote (a folder or s3://), each object
    checked against DVC's md5 (a mismatch is refused: CorruptObject). With ``all_commits``,
    every commit that changed a DVC file is read too and each version is tied to its commit:
    ``data.history`` lists it, ``data.checkout(rev=COMMIT)`` restores it. A second import adds
    nothing; ``dry_run`` only counts what an import would add.

    >>> migrate.import_dvc(["data"], all_commits=True)       # doctest: +SKIP
    DvcImportReport(versions_added=6, commits_linked=6, runs_added=3, …)
    """
    with session(workspace) as ws:
        root = ws.root
        dvc_dir = root / ".dvc"
        if not dvc_dir.is_dir():
            raise UsageError(
                f"{root} is not a DVC project: it has no .dvc folder",
                hint="run 'parity init' at the root of the repository DVC versions, then import",
            )
        history = []
        head = head_commit(root)
        if head is not None:
            if toplevel(root).resolve() != root.resolve():
                raise UsageError(
                    f"the workspace {root} is not the root of its git repository",
                    hint="import from a workspace made at the repository's root (parity init)",
                )
            history = committed(root) if all_commits else [at_commit(root, head)]
        elif all_commits:
            raise UsageError(
                f"{root} has no git commits to walk", hint="import without --all-commits"
            )
        scratch = ws.parity_dir / "cache"
        scratch.mkdir(parents=True, exist_ok=True)
        importer = DvcImporter(
            root,
            DvcObjects(read_config(dvc_dir), scratch),
            Versioning(
                ws.records,
                ws.chunk_index,
                chunk_threshold(ws),
                ws.config.section("data").get("compress", True) is not False,
                now_ms,
            ),
            ws.runs,
            ws.user,
            progress,
        )
        return importer.run(
            work_tree(root),
            history,
            [_relative(root, Path(p)) for p in paths],
            dry_run,
            scratch,
        )


def _relative(root: Path, path: Path) -> str:
    absolute = Path(os.path.normpath(Path.cwd() / path))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        try:
            return absolute.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            raise UsageError(
                f"{path} is outside the workspace {root}", hint="give paths inside the project"
            ) from None


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
