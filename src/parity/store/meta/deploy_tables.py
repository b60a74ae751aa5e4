"""Tables of deployment: what runs where, and what was exported for each model version.

A deployment row is appended each time a model version is recorded at a place (by CI after a
rollout, or by ``parity serve --record-deployment`` on start); the newest row of a place and
model is what runs there now. An export row files a ``deploy_export`` record under the model
version it was made for, so lineage finds the manifests without reading every record.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from parity.core.references import Target
from parity.store.meta.schema import ColumnReference, metadata

deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("place", String(200), nullable=False),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("model_id", String(64), nullable=False),
    Column("environment_id", String(64), nullable=True),
    Column("image", Text, nullable=True),  # NAME[:TAG][@sha256:DIGEST]
    Column("source", String(16), nullable=False),  # "record" | "serve"
    Column("recorded_ms", BigInteger, nullable=False),
    Column("recorded_by", String(200), nullable=False),
    Column("note", Text, nullable=True),
    Index("ix_deployments_place_name", "place", "name", "id"),
    Index("ix_deployments_model", "name", "version"),
)

model_exports = Table(
    "model_exports",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("export_id", String(64), primary_key=True),  # a deploy_export record
    Column("target", String(32), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", String(200), nullable=False),
)

REFERENCE_COLUMNS = (
    ColumnReference(deployments.c.model_id, Target.MODEL),
    ColumnReference(deployments.c.environment_id, Target.ENVIRONMENT),
    ColumnReference(model_exports.c.export_id, Target.OBJECT),
)
# The image names a container registry's object, not one of Parity's.
PLAIN_COLUMNS: tuple[Column[Any], ...] = (
    deployments.c.place,
    deployments.c.name,
    deployments.c.image,
    deployments.c.source,
    deployments.c.recorded_by,
    deployments.c.note,
    model_exports.c.name,
    model_exports.c.target,
    model_exports.c.created_by,
)
