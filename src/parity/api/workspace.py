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

from parity.api._direct import direct_reads
from parity.api._session import session
from parity.core.config import masked_url
from parity.core.errors import ParityError
from parity.tracking.journal import JOURNAL_DIR, refused, unsent
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

    A workspace that uses a Parity server (team mode) reports the server's URL and who its
    token names there (``server``), and asks nothing else of the network; ``server`` is None
    for a workspace with its own stores. ``unsent`` lists the runs whose journals (team mode)
    hold writes the server does not have yet; ``refused`` the writes a server refused for good
    (a param another process had set differently), kept in the files it names.
    """
    with session(workspace) as ws:
        waiting = [journal.to_dict() for journal in unsent(ws.parity_dir / JOURNAL_DIR)]
        refusals = refused(ws.parity_dir / JOURNAL_DIR)
        if ws.server_url is not None:
            return {**_team_status(ws), "unsent": waiting, "refused": refusals}
        with direct_reads(ws) as direct:
            stores = _stores(ws) if direct is None else direct.stores()
        return {
            "root": str(ws.root),
            "server": None,
            **stores,
            "remotes": _remotes(ws),
            "unsent": waiting,
            "refused": refusals,
        }


def _stores(ws: Workspace) -> dict[str, Any]:
    """The stores and what they hold, read through them (``_direct`` reads the same without
    SQLAlchemy when it can)."""
    meta = ws.meta
    models = ws.registry.models()
    return {
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
    }


def _team_status(ws: Workspace) -> dict[str, Any]:
    """The status of a workspace whose stores are a server's: who the server knows us as; an
    unreachable server or a refused token is reported, not raised (status must still answer)."""
    assert ws.server_url is not None
    server: dict[str, Any] = {"url": masked_url(ws.server_url), "user": None, "role": None}
    try:
        identity = ws.server.get("/whoami")
    except ParityError as exc:
        server["error"] = str(exc)
    else:
        server.update(user=identity["user"], role=identity["role"], error=None)
    return {
        "root": str(ws.root),
        "server": server,
        "metadata": None,
        "objects": None,
        "records": None,
        "runs": None,
        "models": None,
        "remotes": _remotes(ws),
    }


def _remotes(ws: Workspace) -> list[dict[str, Any]]:
    return [
        {"name": r.name, "url": r.url, "default": r.name == ws.config.default_remote}
        for r in ws.config.remotes.values()
    ]
