"""What runs where, read with the stdlib ``sqlite3``: ``DeploymentLog.current`` for the short
commands that list it (``parity models show NAME``), from an embedded database at exactly this
Parity's schema (``store.meta.direct``), without SQLAlchemy."""

from __future__ import annotations

import sqlite3
from typing import Any

from parity.core.deployment import Deployment

_COLUMNS = (
    "place",
    "name",
    "version",
    "model_id",
    "image",
    "recorded_ms",
    "recorded_by",
    "source",
    "environment_id",
    "note",
)


def current_deployments(
    connection: sqlite3.Connection, name: str | None = None, place: str | None = None
) -> list[Deployment]:
    """The newest record of every place and model (of ``name``, at ``place``), by place."""
    conditions = []
    parameters: list[Any] = []
    if name is not None:
        conditions.append("name = ?")
        parameters.append(name)
    if place is not None:
        conditions.append("place = ?")
        parameters.append(place)
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    newest = f"SELECT max(id) FROM deployments{where} GROUP BY place, name"  # noqa: S608
    query = (
        f"SELECT {', '.join(_COLUMNS)} FROM deployments WHERE id IN ({newest}) ORDER BY place, name"  # noqa: S608
    )
    return [
        Deployment(**dict(zip(_COLUMNS, row, strict=True)))
        for row in connection.execute(query, parameters)
    ]
