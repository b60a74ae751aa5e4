"""Move in from MLflow: experiments, runs, every metric point and artifacts into the workspace.

>>> from parity.api import migrate
>>> result = migrate.import_mlflow("sqlite:///mlflow.db", experiments=["churn"])  # doctest: +SKIP
>>> result.counts.runs, result.counts.metric_points                            # doctest: +SKIP
(50, 150000)

Importing again adds nothing (runs already imported are skipped); an import cut short is
completed by the next one. ``verify=True`` then compares every count and a sample of metric
histories with the source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from parity.api._session import session
from parity.core.errors import UsageError
from parity.migrate.mlflow.counts import ImportCounts
from parity.migrate.mlflow.verify import VerifyReport, verify_import
from parity.workspace import TMP_DIR, Workspace, now_ms

__all__ = ["ImportCounts", "MlflowImport", "VerifyReport", "import_mlflow"]


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

    ``uri`` is MLflow's tracking URI: ``sqlite:///mlflow.db`` or ``postgresql://…``.
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
    from parity.tracking.store import RunStore  # lazy: SQLAlchemy loads on use

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
        target = ImportTarget(
            runs=runs,
            objects=ws.objects,
            records=ws.records,
            clock=now_ms,
            scratch=ws.parity_dir / TMP_DIR,
            user=ws.user,
        )
        source = open_mlflow_source(uri)
        try:
            counts = import_mlflow_source(source, target, options, progress or _no_progress)
            report = None
            if verify:
                report = verify_import(source, runs, select_runs(source, options))
        finally:
            source.close()
        return MlflowImport(source.description, counts, dry_run, report)


def _no_progress(_done: int, _total: int) -> None:
    pass
