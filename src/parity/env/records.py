"""Environment records in the workspace: stored once per distinct environment, read by id."""

from __future__ import annotations

from parity.core.environment import ENV_KIND, Environment
from parity.store.records import RecordStore


def describe(environment: Environment) -> str:
    interpreter = environment.interpreter
    return (
        f"{interpreter.implementation} {interpreter.version} · "
        f"{len(environment.distributions)} packages · {environment.platform.machine}"
    )


def store_environment(records: RecordStore, environment: Environment, created_ms: int) -> str:
    return records.put(environment.to_record(), created_ms, label=describe(environment))


def load_environment(records: RecordStore, environment_id: str) -> Environment:
    return Environment.from_record(records.get(environment_id, kind=ENV_KIND))
