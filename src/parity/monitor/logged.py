"""What model servers logged, and the profiles their training data was given, in the metadata
store: ``MonitorStore``, the embedded ``Monitoring``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, insert, select

from parity.store.meta.serving_tables import data_profiles, prediction_log
from parity.store.meta.store import MetadataStore, insert_ignoring_duplicates


@dataclass(frozen=True)
class LoggedPrediction:
    """One row of the prediction log as it is read back."""

    id: int
    time_ms: int
    model: str
    version: int
    environment_id: str | None
    data_version: str | None
    inputs: list[Any]
    prediction: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time_ms": self.time_ms,
            "model": self.model,
            "version": self.version,
            "environment_id": self.environment_id,
            "data_version": self.data_version,
            "inputs": self.inputs,
            "prediction": self.prediction,
        }


class MonitorStore:
    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    def append_predictions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Keep a batch of logged predictions in one transaction."""
        if not rows:
            return
        stored = [
            {
                "time_ms": row["time_ms"],
                "model": row["model"],
                "version": row["version"],
                "environment_id": row.get("environment_id"),
                "data_version": row.get("data_version"),
                "inputs": json.dumps(row["inputs"]),
                "prediction": json.dumps(row["prediction"]),
            }
            for row in rows
        ]
        with self.meta.write() as connection:
            connection.execute(insert(prediction_log), stored)

    def logged_inputs(
        self, model: str, version: int | None = None, since_ms: int | None = None
    ) -> list[list[Any]]:
        """The logged input rows of a model (optionally one version, since a time), oldest first."""
        query = _logged(select(prediction_log.c.inputs), model, version, since_ms)
        with self.meta.read() as connection:
            rows = connection.execute(query.order_by(prediction_log.c.id))
            return [json.loads(row[0]) for row in rows]

    def logged_page(
        self,
        model: str,
        version: int | None = None,
        since_ms: int | None = None,
        after: int = 0,
        limit: int = 10_000,
        max_bytes: int | None = None,
    ) -> tuple[list[LoggedPrediction], int | None]:
        """At most ``limit`` logged predictions of a model after the row numbered ``after``,
        oldest first, and the number to ask after next (None when there are no more). With
        ``max_bytes``, the page also stops before its rows' stored JSON passes that many bytes
        (it always holds one row)."""
        query = _logged(select(prediction_log), model, version, since_ms)
        query = query.where(prediction_log.c.id > after).order_by(prediction_log.c.id)
        with self.meta.read() as connection:
            rows = connection.execute(query.limit(limit + 1)).all()
        if max_bytes is not None:
            total = 0
            for index, row in enumerate(rows):
                total += len(row.inputs) + len(row.prediction)
                if index and total > max_bytes:
                    rows, limit = rows[: index + 1], index
                    break
        page = [
            LoggedPrediction(
                id=row.id,
                time_ms=row.time_ms,
                model=row.model,
                version=row.version,
                environment_id=row.environment_id,
                data_version=row.data_version,
                inputs=json.loads(row.inputs),
                prediction=json.loads(row.prediction),
            )
            for row in rows[:limit]
        ]
        return page, (page[-1].id if len(rows) > limit else None)

    def profile_of(self, data_version: str) -> str | None:
        """The id of the profile record of ``data_version``, if one was made."""
        with self.meta.read() as connection:
            found: str | None = connection.execute(
                select(data_profiles.c.profile_id).where(
                    data_profiles.c.data_version == data_version
                )
            ).scalar_one_or_none()
            return found

    def remember_profile(self, data_version: str, profile_id: str, now_ms: int) -> None:
        with self.meta.write() as connection:
            insert_ignoring_duplicates(
                connection,
                data_profiles,
                [{"data_version": data_version, "profile_id": profile_id, "created_ms": now_ms}],
            )


def _logged(
    query: Select[Any], model: str, version: int | None, since_ms: int | None
) -> Select[Any]:
    query = query.where(prediction_log.c.model == model)
    if version is not None:
        query = query.where(prediction_log.c.version == version)
    if since_ms is not None:
        query = query.where(prediction_log.c.time_ms >= since_ms)
    return query
