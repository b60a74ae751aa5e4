"""The sampled log of served predictions, the ground-truth labels joined to it by request id,
the performance checks made of a model version, and the reference profiles drift is checked
against."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from parity.core.references import Target
from parity.store.meta.schema import ColumnReference, metadata

prediction_log = Table(
    "prediction_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time_ms", BigInteger, nullable=False),
    Column("model", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("environment_id", String(64), nullable=True),
    Column("data_version", String(64), nullable=True),
    Column("inputs", Text, nullable=False),  # JSON row, in the signature's column order
    Column("prediction", Text, nullable=False),  # JSON value
    # The request that asked for the row (its X-Request-Id), and the row's place in it.
    Column("request_id", String(64), nullable=True),
    Column("row_index", Integer, nullable=True),
    Index("ix_prediction_log_model_time", "model", "version", "time_ms"),
    Index("ix_prediction_log_request", "model", "request_id"),
)

# Ground truth for logged predictions: one label per (model, request id, row); a label sent
# again for the same row replaces the one kept.
prediction_labels = Table(
    "prediction_labels",
    metadata,
    Column("model", String(200), primary_key=True),
    Column("request_id", String(64), primary_key=True),
    Column("row_index", Integer, primary_key=True),
    Column("label", Text, nullable=False),  # JSON value
    Column("time_ms", BigInteger, nullable=False),
)

# Each ``parity monitor performance`` verdict, kept with the model version it judged.
performance_checks = Table(
    "performance_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("model", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("time_ms", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),  # "ok" | "degraded" | "not evaluated"
    Column("report", Text, nullable=False),  # the check's JSON document
    Index("ix_performance_checks_model", "model", "version", "id"),
)

# Which profile record describes which data version (one profile per data version).
data_profiles = Table(
    "data_profiles",
    metadata,
    Column("data_version", String(64), primary_key=True),
    Column("profile_id", String(64), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
)

REFERENCE_COLUMNS = (
    ColumnReference(prediction_log.c.environment_id, Target.ENVIRONMENT),
    ColumnReference(prediction_log.c.data_version, Target.DATA_VERSION),
    ColumnReference(data_profiles.c.data_version, Target.DATA_VERSION),
    ColumnReference(data_profiles.c.profile_id, Target.PROFILE),
)
PLAIN_COLUMNS: tuple[Column[Any], ...] = (
    prediction_log.c.model,
    prediction_log.c.inputs,
    prediction_log.c.prediction,
    prediction_log.c.request_id,
    prediction_labels.c.model,
    prediction_labels.c.request_id,
    prediction_labels.c.label,
    performance_checks.c.model,
    performance_checks.c.status,
    performance_checks.c.report,
)
