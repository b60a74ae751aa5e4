"""Registered models and their versions read with the stdlib ``sqlite3``: what
``parity models show NAME`` and ``parity status`` ask of the registry.

The same answers as ``Registry.versions`` and ``Registry.models`` (and the same NotFoundError
for an unknown model), from an embedded database at exactly this Parity's schema
(``store.meta.direct``), without SQLAlchemy.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from parity.core.errors import NotFoundError
from parity.core.model import ModelVersion

_VERSION_COLUMNS = (
    "name",
    "version",
    "model_id",
    "run_id",
    "created_ms",
    "created_by",
    "locked",
    "description",
)


def model_versions(connection: sqlite3.Connection, name: str) -> list[ModelVersion]:
    """Every version of the model ``name``, oldest first, with the aliases naming each."""
    connection.execute("BEGIN")
    try:
        _require_model(connection, name)
        columns = ", ".join(_VERSION_COLUMNS)
        query = f"SELECT {columns} FROM model_versions WHERE name = ? ORDER BY version"  # noqa: S608
        rows = connection.execute(query, [name]).fetchall()
        aliases: dict[int, list[str]] = {}
        for alias, version in connection.execute(
            "SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias", [name]
        ):
            aliases.setdefault(version, []).append(alias)
    finally:
        connection.execute("COMMIT")
    return [_version(dict(zip(_VERSION_COLUMNS, row, strict=True)), aliases) for row in rows]


def registered_models(connection: sqlite3.Connection) -> list[dict[str, Any]]:
    """Every registered model with its latest version and aliases, by name."""
    connection.execute("BEGIN")
    try:
        latest = dict(
            connection.execute("SELECT name, max(version) FROM model_versions GROUP BY name")
        )
        alias_rows = connection.execute("SELECT name, alias, version FROM model_aliases").fetchall()
        names = connection.execute(
            "SELECT name, created_ms FROM registered_models ORDER BY name"
        ).fetchall()
    finally:
        connection.execute("COMMIT")
    aliases: dict[str, dict[str, int]] = {}
    for name, alias, version in alias_rows:
        aliases.setdefault(name, {})[alias] = version
    return [
        {
            "name": name,
            "latest_version": latest.get(name),
            "aliases": aliases.get(name, {}),
            "created_ms": created,
        }
        for name, created in names
    ]


def _require_model(connection: sqlite3.Connection, name: str) -> None:
    found = connection.execute("SELECT name FROM registered_models WHERE name = ?", [name])
    if found.fetchone() is None:
        raise NotFoundError(f"no model named {name!r}", hint="list models: parity models list")


def _version(row: dict[str, Any], aliases: dict[int, list[str]]) -> ModelVersion:
    return ModelVersion(
        name=row["name"],
        version=row["version"],
        model_id=row["model_id"],
        run_id=row["run_id"],
        created_ms=row["created_ms"],
        created_by=row["created_by"],
        locked=bool(row["locked"]),
        aliases=tuple(aliases.get(row["version"], ())),
        description=row["description"],
    )
