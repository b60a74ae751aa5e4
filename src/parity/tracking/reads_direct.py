"""Runs read with the stdlib ``sqlite3``: what ``parity runs list`` and ``parity status`` ask.

The same answers as ``RunStore``'s reads (search, views, short ids, keys, counts) from an
embedded database at exactly this Parity's schema (``store.meta.direct``), without SQLAlchemy,
whose import alone costs more than these commands' whole work. Views are assembled by
``view_rows``, as ``RunStore`` assembles them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from parity.core.ids import RUN_PREFIX_LENGTH, unique_prefix
from parity.core.run import RunView
from parity.core.run_filter import Expression, SortKey
from parity.tracking.search_direct import run_ids_statement
from parity.tracking.view_rows import (
    RUN_COLUMNS,
    CodeLoader,
    add_artifact,
    add_data,
    add_launch,
    assemble,
    code_document,
    empty_part,
)

# Ids per IN list, as ``views.IN_CHUNK``: well under SQLite's parameter limit.
IN_CHUNK = 500


@contextmanager
def read_transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One snapshot for several statements (the connection is in autocommit mode)."""
    connection.execute("BEGIN")
    try:
        yield connection
    finally:
        connection.execute("COMMIT")


class DirectRunReader:
    """Reads runs over a ``sqlite3`` connection; ``code_of`` reads a run's code state."""

    def __init__(self, connection: sqlite3.Connection, code_of: CodeLoader) -> None:
        self.connection = connection
        self.code_of = code_of

    def search(
        self,
        *,
        experiment: str | None = None,
        expression: Expression | None = None,
        sort: Sequence[SortKey] = (),
        limit: int | None = None,
        deleted: bool = False,
    ) -> list[RunView]:
        """Runs matching ``expression``, in ``sort`` order (default: newest first)."""
        statement, parameters = run_ids_statement(
            experiment=experiment, expression=expression, sort=sort, limit=limit, deleted=deleted
        )
        with read_transaction(self.connection) as connection:
            ids = [str(row[0]) for row in connection.execute(statement, parameters)]
            return self._views(connection, ids)

    def short_ids(self, run_ids: Sequence[str]) -> dict[str, str]:
        """Each run id with the shortest prefix (at least 8 characters) that no other run
        starts with, deleted runs included (as ``RunStore.short_ids``)."""
        shown = {}
        with read_transaction(self.connection) as connection:
            for run_id in sorted(set(run_ids)):
                # Of all ids, the two beside it in sorted order share the longest prefixes with it.
                before = connection.execute(
                    "SELECT max(run_id) FROM runs WHERE run_id < ?", [run_id]
                )
                after = connection.execute(
                    "SELECT min(run_id) FROM runs WHERE run_id > ?", [run_id]
                )
                neighbours = [
                    n for n in (before.fetchone()[0], after.fetchone()[0]) if n is not None
                ]
                shown[run_id] = unique_prefix(run_id, neighbours, RUN_PREFIX_LENGTH)
        return shown

    def keys(self) -> dict[str, list[str]]:
        """The metric, param and tag keys some run has, sorted: what filters can name."""
        found = {}
        with read_transaction(self.connection) as connection:
            for name, table in (
                ("metrics", "latest_metrics"),
                ("params", "run_params"),
                ("tags", "run_tags"),
            ):
                query = f'SELECT DISTINCT "key" FROM {table} ORDER BY "key"'  # noqa: S608
                found[name] = [str(row[0]) for row in connection.execute(query)]
        return found

    def count_by_status(self) -> dict[str, int]:
        """How many runs there are in each status; soft-deleted runs are not counted."""
        query = "SELECT status, count(*) FROM runs WHERE deleted_ms IS NULL GROUP BY status"
        return {str(status): int(n) for status, n in self.connection.execute(query)}

    def _views(self, connection: sqlite3.Connection, run_ids: Sequence[str]) -> list[RunView]:
        parts: dict[str, dict[str, Any]] = {}
        ordered = list(run_ids)
        for start in range(0, len(ordered), IN_CHUNK):
            chunk = ordered[start : start + IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            columns = ", ".join(f'"{column}"' for column in RUN_COLUMNS)
            query = f"SELECT {columns} FROM runs WHERE run_id IN ({marks})"  # noqa: S608
            for row in connection.execute(query, chunk):
                parts[row[0]] = empty_part(dict(zip(RUN_COLUMNS, row, strict=True)))
            present = [rid for rid in chunk if rid in parts]
            if present:
                _fill(connection, present, parts)
        # Code states from their rows (code_states); only one without a row (a run from
        # before migration t004) is read from its record, as ``views.read_views`` does.
        codes = _code_documents(connection, {p["row"]["code_id"] for p in parts.values()})

        def code(code_id: str) -> Mapping[str, Any]:
            return codes.get(code_id) or self.code_of(code_id)

        return [assemble(parts[rid], code) for rid in ordered if rid in parts]


def _fill(
    connection: sqlite3.Connection, present: list[str], parts: dict[str, dict[str, Any]]
) -> None:
    marks = ",".join("?" * len(present))
    for table, field in (
        ("run_params", "params"),
        ("run_tags", "tags"),
        ("latest_metrics", "metrics"),
        ("run_seeds", "seeds"),
    ):
        query = f'SELECT run_id, "key", value FROM {table} WHERE run_id IN ({marks})'  # noqa: S608
        for rid, key, value in connection.execute(query, present):
            parts[rid][field][key] = value
    query = (
        "SELECT run_id, direction, path, data_version FROM run_data "  # noqa: S608
        f"WHERE run_id IN ({marks}) ORDER BY path"
    )
    for rid, direction, path, version in connection.execute(query, present):
        add_data(parts[rid], direction, path, version)
    query = (
        "SELECT run_id, path, kind, digest, size FROM run_artifacts "  # noqa: S608
        f"WHERE run_id IN ({marks}) ORDER BY path"
    )
    for rid, path, kind, digest, size in connection.execute(query, present):
        add_artifact(parts[rid], {"path": path, "kind": kind, "digest": digest, "size": size})
    query = f"SELECT run_id, launch FROM run_launches WHERE run_id IN ({marks})"  # noqa: S608
    for rid, launch in connection.execute(query, present):
        add_launch(parts[rid], launch)
    query = f"SELECT run_id, original_id FROM reproductions WHERE run_id IN ({marks})"  # noqa: S608
    for rid, original in connection.execute(query, present):
        parts[rid]["reproduces"] = original


def _code_documents(
    connection: sqlite3.Connection, code_ids: Iterable[str | None]
) -> dict[str, dict[str, Any]]:
    wanted = sorted({code_id for code_id in code_ids if code_id is not None})
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        marks = ",".join("?" * len(chunk))
        query = f"SELECT code_id, document FROM code_states WHERE code_id IN ({marks})"  # noqa: S608
        for code_id, document in connection.execute(query, chunk):
            found[str(code_id)] = code_document(str(code_id), document)
    return found
