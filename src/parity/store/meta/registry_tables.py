"""Tables of the model registry: models, versions, aliases and the append-only audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from parity.core.references import Target
from parity.store.meta.schema import ColumnReference, metadata

registered_models = Table(
    "registered_models",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("description", Text, nullable=True),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("model_id", String(64), nullable=False),
    Column("run_id", String(32), nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("locked", Boolean, nullable=False, default=False),
    Column("description", Text, nullable=True),
    Index("ix_model_versions_run", "run_id"),
    Index("ix_model_versions_model", "model_id"),
)

model_aliases = Table(
    "model_aliases",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("alias", String(200), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

# Append-only: database triggers (see migration r001) refuse UPDATE and DELETE on this table.
audit_events = Table(
    "audit_events",
    metadata,
    Column("sequence", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=True),
    Column("action", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("reason", Text, nullable=True),
    Column("forced", Boolean, nullable=False, default=False),
    Index("ix_audit_events_name", "name", "sequence"),
)

REFERENCE_COLUMNS = (
    ColumnReference(model_versions.c.model_id, Target.MODEL),
    ColumnReference(model_versions.c.run_id, Target.RUN),
)
# ``before`` and ``after`` are JSON history (a deleted version's model id among it): an audit
# entry tells what was, it keeps nothing alive.
PLAIN_COLUMNS: tuple[Column[Any], ...] = (
    registered_models.c.name,
    registered_models.c.created_by,
    registered_models.c.description,
    model_versions.c.name,
    model_versions.c.created_by,
    model_versions.c.description,
    model_aliases.c.name,
    model_aliases.c.alias,
    audit_events.c.name,
    audit_events.c.action,
    audit_events.c.actor,
    audit_events.c.before,
    audit_events.c.after,
    audit_events.c.reason,
)
