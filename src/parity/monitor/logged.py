"""Read back what model servers logged, and the profiles their training data was given."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from parity.store.meta.serving_tables import data_profiles, prediction_log
from parity.store.meta.store import MetadataStore, insert_ignoring_duplicates


def logged_inputs(
    meta: MetadataStore, model: str, version: int | None = None, since_ms: int | None = None
) -> list[list[Any]]:
    """The logged input rows of a model (optionally one version, since a time), oldest first."""
    query = select(prediction_log.c.inputs).where(prediction_log.c.model == model)
    if version is not None:
        query = query.where(prediction_log.c.version == version)
    if since_ms is not None:
        query = query.where(prediction_log.c.time_ms >= since_ms)
    with meta.read() as connection:
        rows = connection.execute(query.order_by(prediction_log.c.id))
        return [json.loads(row[0]) for row in rows]


def profile_of(meta: MetadataStore, data_version: str) -> str | None:
    """The id of the profile record of ``data_version``, if one was made."""
    with meta.read() as connection:
        return connection.execute(
            select(data_profiles.c.profile_id).where(data_profiles.c.data_version == data_version)
        ).scalar_one_or_none()


def remember_profile(meta: MetadataStore, data_version: str, profile_id: str, now_ms: int) -> None:
    with meta.write() as connection:
        insert_ignoring_duplicates(
            connection,
            data_profiles,
            [{"data_version": data_version, "profile_id": profile_id, "created_ms": now_ms}],
        )
