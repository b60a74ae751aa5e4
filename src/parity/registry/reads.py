"""Registry reads over the stdlib ``sqlite3``: what a command that only looks a version up needs,
without SQLAlchemy's import (~110 ms, most of what such a lookup costs).

``RegistryReads`` answers ``get``, ``by_alias``, ``latest``, ``resolve`` and ``versions`` as
``versions.Registry`` does (the same versions, the same errors); the workspace hands it out only
for an embedded database at exactly this Parity's schema (``store.meta.direct``), and the full
registry otherwise. Changes always go through the full registry.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from parity.core.errors import NotFoundError, UsageError
from parity.core.model import ModelVersion
from parity.core.refs import RefKind, check_version, parse_reference

_SELECT_VERSIONS = (
    "SELECT name, version, model_id, run_id, created_ms, created_by, locked, description"
    " FROM model_versions WHERE name = ?"
)
_ALL_VERSIONS = _SELECT_VERSIONS + " ORDER BY version"
_ONE_VERSION = _SELECT_VERSIONS + " AND version = ?"


class VersionReader(Protocol):
    """The reading part of ``ModelRegistry``: what ``RegistryReads`` and the full registries
    (SQL and HTTP) all answer."""

    def get(self, name: str, version: int) -> ModelVersion: ...

    def by_alias(self, name: str, alias: str) -> ModelVersion: ...

    def latest(self, name: str) -> ModelVersion: ...

    def resolve(self, text: str) -> ModelVersion: ...

    def versions(self, name: str) -> list[ModelVersion]: ...


def resolve_version(reader: VersionReader, text: str) -> ModelVersion:
    """The version ``text`` names for ``reader``: ``NAME@ALIAS``, ``NAME/VERSION`` or a bare
    ``NAME`` (its latest), as every registry (stdlib, SQL, HTTP) reads a reference."""
    if "@" not in text and "/" not in text:
        return reader.latest(text)
    reference = parse_reference(text)
    if reference.kind is RefKind.MODEL_ALIAS:
        return reader.by_alias(reference.name or "", reference.alias or "")
    if reference.kind is RefKind.MODEL_VERSION:
        return reader.get(reference.name or "", reference.version or 0)
    raise UsageError(
        f"{text!r} does not name a model version", hint="use NAME@ALIAS, NAME/VERSION or NAME"
    )


class RegistryReads:
    """Model versions and aliases read with ``sqlite3`` from an open database connection."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        # One connection may be asked from several threads (an alias follower polls from its
        # own): each read holds it for its whole transaction.
        self._lock = threading.Lock()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """One snapshot for the statements of a read, as the full store's ``meta.read()``:
        an alias moved between two of them cannot pair one version with another's aliases."""
        with self._lock:
            self.connection.execute("BEGIN")
            try:
                yield self.connection
            finally:
                self.connection.execute("COMMIT")

    def get(self, name: str, version: int) -> ModelVersion:
        with self._read() as connection:
            return _get(connection, name, version)

    def by_alias(self, name: str, alias: str) -> ModelVersion:
        with self._read() as connection:
            found = connection.execute(
                "SELECT version FROM model_aliases WHERE name = ? AND alias = ?", (name, alias)
            ).fetchone()
            if found is None:
                _require_model(connection, name)
                raise NotFoundError(
                    f"model {name!r} has no alias {alias!r}",
                    hint=f"see its aliases with 'parity models show {name}'",
                )
            return _get(connection, name, found[0])

    def latest(self, name: str) -> ModelVersion:
        with self._read() as connection:
            _require_model(connection, name)
            (version,) = connection.execute(
                "SELECT max(version) FROM model_versions WHERE name = ?", (name,)
            ).fetchone()
            if version is None:
                raise NotFoundError(f"model {name!r} has no versions left")
            return _get(connection, name, version)

    def resolve(self, text: str) -> ModelVersion:
        """A model version from ``NAME@ALIAS``, ``NAME/VERSION`` or a bare ``NAME`` (latest)."""
        return resolve_version(self, text)

    def versions(self, name: str) -> list[ModelVersion]:
        with self._read() as connection:
            _require_model(connection, name)
            rows = connection.execute(_ALL_VERSIONS, (name,)).fetchall()
            aliases = _aliases(connection, name)
        return [_version(row, aliases) for row in rows]

    def models(self) -> list[dict[str, Any]]:
        """Every registered model with its latest version and aliases, by name (the rows
        ``Registry.models`` gives)."""
        with self._read() as connection:
            latest = dict(
                connection.execute("SELECT name, max(version) FROM model_versions GROUP BY name")
            )
            alias_rows = connection.execute(
                "SELECT name, alias, version FROM model_aliases"
            ).fetchall()
            names = connection.execute(
                "SELECT name, created_ms FROM registered_models ORDER BY name"
            ).fetchall()
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
    found = connection.execute(
        "SELECT name FROM registered_models WHERE name = ?", (name,)
    ).fetchone()
    if found is None:
        raise NotFoundError(f"no model named {name!r}", hint="list models: parity models list")


def _get(connection: sqlite3.Connection, name: str, version: int) -> ModelVersion:
    check_version(version)
    row = connection.execute(_ONE_VERSION, (name, version)).fetchone()
    if row is None:
        _require_model(connection, name)
        raise NotFoundError(
            f"model {name!r} has no version {version}",
            hint=f"list its versions: parity models show {name}",
        )
    return _version(row, _aliases(connection, name))


def _aliases(connection: sqlite3.Connection, name: str) -> dict[int, list[str]]:
    found: dict[int, list[str]] = {}
    for alias, version in connection.execute(
        "SELECT alias, version FROM model_aliases WHERE name = ? ORDER BY alias", (name,)
    ):
        found.setdefault(version, []).append(alias)
    return found


def _version(row: tuple[object, ...], aliases: Mapping[int, list[str]]) -> ModelVersion:
    name, version, model_id, run_id, created_ms, created_by, locked, description = row
    number = int(version)  # type: ignore[call-overload]
    return ModelVersion(
        name=str(name),
        version=number,
        model_id=str(model_id),
        run_id=None if run_id is None else str(run_id),
        created_ms=int(created_ms),  # type: ignore[call-overload]
        created_by=str(created_by),
        locked=bool(locked),
        aliases=tuple(aliases.get(number, ())),
        description=None if description is None else str(description),
    )
