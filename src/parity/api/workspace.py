"""The workspace: create one, open one, and see what it holds (``parity init``, ``parity status``).

>>> with parity.api.workspace.open() as ws:                  # doctest: +SKIP
...     parity.models.get("churn@production", workspace=ws)

Every other API call takes ``workspace=`` last; without it, the call opens the workspace
around the current folder (or ``PARITY_WORKSPACE``) and closes it again. A caller making many
calls opens one here and passes it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from parity.api._session import session
from parity.tracking.journal import JOURNAL_DIR, unsent
from parity.workspace import Workspace, init_workspace, open_workspace

__all__ = ["init", "open", "status"]


def init(path: str | Path | None = None) -> tuple[Workspace, bool]:
    """Create a workspace at ``path`` (default: the git root, else the current folder).

    >>> ws, created = parity.api.workspace.init()   # doctest: +SKIP

    Returns the open workspace and whether it was created now; an existing one is left as is.
    """
    return init_workspace(None if path is None else Path(path))


def open(path: str | Path | None = None) -> Workspace:
    """The workspace containing ``path`` (default: the current folder, or ``PARITY_WORKSPACE``).

    Close it when done, or use it as a context manager.
    """
    return open_workspace(None if path is None else Path(path))


def status(*, workspace: Workspace | None = None) -> dict[str, Any]:
    """What the workspace holds: its stores, record counts, runs by status, models, remotes.

    ``unsent`` lists the runs whose journals (team mode) hold writes the server does not have.
    """
    with session(workspace) as ws:
        waiting = [journal.to_dict() for journal in unsent(ws.parity_dir / JOURNAL_DIR)]
        meta = ws.meta
        models = ws.registry.models()
        return {
            "root": str(ws.root),
            "metadata": {
                "url": meta.url,
                "dialect": meta.dialect,
                "schema": ",".join(meta.schema_revisions()),
            },
            "objects": {"url": ws.objects.url},
            "records": meta.count_records(),
            "runs": ws.runs.count_by_status(),
            "models": [
                {"name": m["name"], "latest_version": m["latest_version"], "aliases": m["aliases"]}
                for m in models
            ],
            "remotes": [
                {"name": r.name, "url": r.url, "default": r.name == ws.config.default_remote}
                for r in ws.config.remotes.values()
            ],
            "unsent": waiting,
        }
