"""Environment records in the workspace: stored once per distinct environment, read by id."""

from __future__ import annotations

from pathlib import Path

from parity.core.environment import ENV_KIND, Environment
from parity.store.records import RecordStore
from parity.store.records_direct import index_record_direct


def describe(environment: Environment) -> str:
    interpreter = environment.interpreter
    return (
        f"{interpreter.implementation} {interpreter.version} · "
        f"{len(environment.distributions)} packages · {environment.platform.machine}"
    )


def store_environment(
    records: RecordStore,
    environment: Environment,
    created_ms: int,
    database: Path | None = None,
) -> str:
    """Store ``environment``'s record; with ``database`` (the workspace's own SQLite file), its
    index row is written there with stdlib ``sqlite3`` when that database allows it, so a
    capture need not import SQLAlchemy for one row."""
    record = environment.to_record()
    label = describe(environment)
    if database is None:
        return records.put(record, created_ms, label=label)
    record_id = records.objects.put_record(record)
    entry = (record_id, record.kind, created_ms, label)
    if not index_record_direct(database, entry):
        records.meta.index_records([entry])
    return record_id


def load_environment(records: RecordStore, environment_id: str) -> Environment:
    return Environment.from_record(records.get(environment_id, kind=ENV_KIND))
