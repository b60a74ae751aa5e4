"""The sampled log of served predictions, and the reference profiles drift is checked against."""

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
    Index("ix_prediction_log_model_time", "model", "version", "time_ms"),
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
)
