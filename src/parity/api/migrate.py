"""Moving in and out: import history from MLflow and DVC, export runs and models to MLflow.

>>> from parity.api import migrate
>>> migrate.import_mlflow("sqlite:///mlflow.db").counts.runs       # doctest: +SKIP
50
>>> migrate.import_dvc(all_commits=True).versions_added    # doctest: +SKIP
6
>>> migrate.export_mlflow(["6650c1f3"], to="http://127.0.0.1:5000")  # doctest: +SKIP

docs/migrate.md walks through a move, and running both tools side by side during one.

Each call opens the current folder's workspace unless given ``workspace=``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from parity.migrate.mlflow.counts import ImportCounts
from parity.migrate.mlflow.verify import VerifyReport, verify_import
from parity.migrate.mlflow_export.exporter import ExportResult, MlflowExport
from parity.migrate.mlflow_export.rest_writer import MlflowWriter
from parity.migrate.mlflow_export.target import is_server, served
from parity.workspace import TMP_DIR, Workspace, now_ms

__all__ = [
    "DvcImportReport",
    "ExportResult",
    "ImportCounts",
    "MlflowImport",
    "VerifyReport",
    "export_mlflow",
    "import_dvc",
    "import_mlflow",
]

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
                    target=writer.base_url if is_server(to) else to,
                    progress=progress or (lambda _kind, _done, _total: None),
                )
                return export.export(run_ids, models)
            finally:
                writer.close()


@dataclass(frozen=True)
class MlflowImport:
    """What ``import_mlflow`` did: the source, counts by kind, and the check when asked."""

    source: str
    counts: ImportCounts
    dry_run: bool
    verify: VerifyReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "dry_run": self.dry_run,
            "counts": self.counts.to_dict(),
            "verify": None if self.verify is None else self.verify.to_dict(),
        }


def _since_ms(since: str | dt.datetime | None) -> int | None:
    """A date (``2024-01-31``) or an ISO time as epoch milliseconds (UTC when no zone)."""
    if since is None:
        return None
    if isinstance(since, dt.datetime):
        moment = since
    else:
        try:
            moment = dt.datetime.fromisoformat(since)
        except ValueError as exc:
            raise UsageError(
                f"cannot read --since {since!r}", hint="give a date (2024-01-31) or an ISO time"
            ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return int(moment.timestamp() * 1000)


def import_mlflow(
    uri: str,
    *,
    experiments: Sequence[str] = (),
    since: str | dt.datetime | None = None,
    dry_run: bool = False,
    verify: bool = False,
    progress: Callable[[int, int], None] | None = None,
    workspace: Workspace | None = None,
) -> MlflowImport:
    """Import an MLflow tracking store's experiments and runs into the workspace.

    >>> parity.api.migrate.import_mlflow("sqlite:///mlflow.db").counts.runs  # doctest: +SKIP
    50

    ``uri`` is MLflow's tracking URI: ``sqlite:///mlflow.db``, ``postgresql://…``, an MLflow
    server ``http(s)://…`` (MLFLOW_TRACKING_TOKEN, or _USERNAME and _PASSWORD, when it asks) or
    a file store ``./mlruns``. Registered models follow the runs: versions keep their numbers
    and the logged model's files (a scikit-learn model loads with Parity's own flavor), aliases
    and stages (as lower-case aliases) move with them, and each version's requirements are
    recorded as a declared, never fingerprinted, environment.
    ``experiments`` names MLflow experiments (default: every active one); ``since`` keeps runs
    started at or after a date or ISO time. Runs keep their name, status, start and end times,
    user, params, tags (``mlflow.*`` too), every metric point, dataset inputs (as
    ``mlflow.dataset.*`` tags), the git commit as their code state, their parent run and their
    artifacts (content-addressed: the same bytes stored once); each gets an ``mlflow.run_id``
    tag. ``dry_run`` counts what would be written; ``verify`` compares the workspace with the
    source afterwards (``result.verify.ok``). ``progress(runs_done, runs_total)`` hears the
    runs go by.
    """
    from parity.migrate.mlflow.importer import (  # lazy: SQLAlchemy Core loads on use
        ImportOptions,
        ImportTarget,
        import_mlflow_source,
        select_runs,
    )
    from parity.migrate.mlflow.readers import (  # lazy: the readers load their drivers
        open_mlflow_source,
    )
    from parity.registry.versions import Registry  # lazy: SQLAlchemy loads on use
    from parity.store.meta.tracking_tables import SEARCHED_TABLES  # lazy: with SQLAlchemy
    from parity.tracking.store import RunStore  # lazy: with the registry's SQLAlchemy

    options = ImportOptions(tuple(experiments), _since_ms(since), dry_run)
    with session(workspace) as ws:
        if ws.server_url is not None:
            raise UsageError(
                "an MLflow import writes into a workspace's own stores, not through a server",
                hint="run it on the server host with its metadata_url and objects_url, "
                "or unset PARITY_SERVER_URL",
            )
        runs = ws.runs
        assert isinstance(runs, RunStore)
        registry = ws.registry
        assert isinstance(registry, Registry)  # embedded: versions keep MLflow's numbers
        target = ImportTarget(
            runs=runs,
            objects=ws.objects,
            records=ws.records,
            clock=now_ms,
            scratch=ws.parity_dir / TMP_DIR,
            user=ws.user,
            registry=registry,
            actor=ws.actor(),
        )
        source = open_mlflow_source(uri)
        try:
            counts = import_mlflow_source(source, target, options, progress or _no_progress)
            if not dry_run:
                ws.meta.refresh_statistics(SEARCHED_TABLES)
            report = None
            if verify:
                report = verify_import(source, runs, select_runs(source, options))
        finally:
            source.close()
        return MlflowImport(source.description, counts, dry_run, report)


def _no_progress(_done: int, _total: int) -> None:
    pass
