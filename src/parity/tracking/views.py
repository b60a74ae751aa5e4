"""Read whole runs back: one query per table for a page of runs, never one per run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from parity.core.run import RunView
from parity.store.meta.repro_tables import reproductions
from parity.store.meta.tracking_tables import (
    latest_metrics,
    run_artifacts,
    run_data,
    run_launches,
    run_params,
    run_seeds,
    run_tags,
    runs,
)
from parity.tracking.code_index import read_documents
from parity.tracking.view_rows import (
    CodeLoader,
    add_artifact,
    add_data,
    add_launch,
    assemble,
    empty_part,
)

T = TypeVar("T")
# Ids per IN list: well under SQLite's and PostgreSQL's parameter limits.
IN_CHUNK = 500


def _chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def read_views(
    connection: Connection, run_ids: Sequence[str], code_of: CodeLoader
) -> list[RunView]:
    """RunViews of ``run_ids`` in the same order (unknown ids are left out).

    Code states come from the code_states table; ``code_of`` is asked only for one without a
    row there (a run recorded before the table existed)."""
    parts: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(list(run_ids)):
        for row in connection.execute(select(runs).where(runs.c.run_id.in_(chunk))):
            parts[row.run_id] = empty_part(row._mapping)
        present = [rid for rid in chunk if rid in parts]
        if present:
            _fill(connection, present, parts)
    codes = read_documents(connection, {p["row"]["code_id"] for p in parts.values()} - {None})

    def code(code_id: str) -> Mapping[str, Any]:
        return codes.get(code_id) or code_of(code_id)

    return [assemble(parts[rid], code) for rid in run_ids if rid in parts]


def _fill(connection: Connection, present: list[str], parts: dict[str, dict[str, Any]]) -> None:
    keyed = ((run_params, "params"), (run_tags, "tags"), (latest_metrics, "metrics"))
    for table, field in (*keyed, (run_seeds, "seeds")):
        query = select(table.c.run_id, table.c.key, table.c.value)
        for rid, key, value in connection.execute(query.where(table.c.run_id.in_(present))):
            parts[rid][field][key] = value
    data = select(run_data).where(run_data.c.run_id.in_(present)).order_by(run_data.c.path)
    for row in connection.execute(data):
        add_data(parts[row.run_id], row.direction, row.path, row.data_version)
    artifacts = (
        select(run_artifacts)
        .where(run_artifacts.c.run_id.in_(present))
        .order_by(run_artifacts.c.path)
    )
    for row in connection.execute(artifacts):
        add_artifact(parts[row.run_id], row._mapping)
    launches = select(run_launches).where(run_launches.c.run_id.in_(present))
    for row in connection.execute(launches):
        add_launch(parts[row.run_id], row.launch)
    linked = select(reproductions.c.run_id, reproductions.c.original_id).where(
        reproductions.c.run_id.in_(present)
    )
    for rid, original in connection.execute(linked):
        parts[rid]["reproduces"] = original
