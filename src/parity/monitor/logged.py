"""What model servers logged, the labels that came back for it, the performance checks made,
and the profiles training data was given, in the metadata store: ``MonitorStore``, the
embedded ``Monitoring``."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, delete, func, insert, select, tuple_

from parity.core.feedback import LabelledPrediction, LabelReceipt, unknown_receipt
from parity.store.meta.serving_tables import (
    data_profiles,
    performance_checks,
    prediction_labels,
    prediction_log,
)
from parity.store.meta.store import MetadataStore, insert_ignoring_duplicates

# Request ids looked up per query while labels are matched to logged rows.
_MATCH_CHUNK = 400


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
    request_id: str | None = None
    row: int | None = None

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
            "request_id": self.request_id,
            "row": self.row,
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
                "request_id": row.get("request_id"),
                "row_index": row.get("row"),
            }
            for row in rows
        ]
        with self.meta.write() as connection:
            connection.execute(insert(prediction_log), stored)

    def logged_inputs(
        self,
        model: str,
        version: int | None = None,
        since_ms: int | None = None,
        *,
        until_ms: int | None = None,
        newest: int | None = None,
    ) -> list[list[Any]]:
        """The logged input rows of a model (optionally one version, since a time and before
        another; with ``newest``, only that many of the latest), oldest first."""
        query = _logged(select(prediction_log.c.inputs), model, version, since_ms, until_ms)
        with self.meta.read() as connection:
            if newest is None:
                rows = connection.execute(query.order_by(prediction_log.c.id)).all()
            else:
                latest = query.order_by(prediction_log.c.id.desc()).limit(newest)
                rows = connection.execute(latest).all()[::-1]
            return [json.loads(row[0]) for row in rows]

    def logged_page(
        self,
        model: str,
        version: int | None = None,
        since_ms: int | None = None,
        after: int = 0,
        limit: int = 10_000,
        max_bytes: int | None = None,
        *,
        until_ms: int | None = None,
    ) -> tuple[list[LoggedPrediction], int | None]:
        """At most ``limit`` logged predictions of a model after the row numbered ``after``,
        oldest first, and the number to ask after next (None when there are no more). With
        ``max_bytes``, the page also stops before its rows' stored JSON passes that many bytes
        (it always holds one row). ``until_ms`` leaves out rows logged at or after it."""
        query = _logged(select(prediction_log), model, version, since_ms, until_ms)
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
                request_id=row.request_id,
                row=row.row_index,
            )
            for row in rows[:limit]
        ]
        return page, (page[-1].id if len(rows) > limit else None)

    def store_labels(
        self, model: str, labels: Sequence[Mapping[str, Any]], now_ms: int
    ) -> LabelReceipt:
        """Keep the labels (``request_id``, ``row``, ``label``) whose request a logged row of
        ``model`` answered; count, and name, the others. A label sent again replaces the last."""
        wanted = {(str(item["request_id"]), int(item.get("row", 0))): item for item in labels}
        logged: dict[tuple[str, int], int] = {}  # how many logged predictions each key names
        ids = sorted({request_id for request_id, _ in wanted})
        with self.meta.write() as connection:
            for start in range(0, len(ids), _MATCH_CHUNK):
                found = connection.execute(
                    select(prediction_log.c.request_id, prediction_log.c.row_index).where(
                        prediction_log.c.model == model,
                        prediction_log.c.request_id.in_(ids[start : start + _MATCH_CHUNK]),
                    )
                )
                for row in found:
                    key = (row[0], row[1] or 0)
                    logged[key] = logged.get(key, 0) + 1
            # One label is the truth of one prediction: a key several share is not kept.
            known = {key for key, count in logged.items() if count == 1}
            ambiguous = [key for key in wanted if logged.get(key, 0) > 1]
            kept = sorted(key for key in wanted if key in known)
            for start in range(0, len(kept), _MATCH_CHUNK):
                connection.execute(
                    delete(prediction_labels).where(
                        prediction_labels.c.model == model,
                        tuple_(prediction_labels.c.request_id, prediction_labels.c.row_index).in_(
                            kept[start : start + _MATCH_CHUNK]
                        ),
                    )
                )
            if kept:
                connection.execute(
                    insert(prediction_labels),
                    [
                        {
                            "model": model,
                            "request_id": request_id,
                            "row_index": row,
                            "label": json.dumps(wanted[(request_id, row)]["label"]),
                            "time_ms": now_ms,
                        }
                        for request_id, row in kept
                    ],
                )
        unknown = [k for k in wanted if k not in logged]
        return unknown_receipt(len(labels), len(kept), unknown, ambiguous)

    def labelled_page(
        self,
        model: str,
        version: int | None = None,
        since_ms: int | None = None,
        after: int = 0,
        limit: int = 10_000,
        max_bytes: int | None = None,
    ) -> tuple[list[LabelledPrediction], int | None]:
        """At most ``limit`` logged predictions of ``model`` that have a label, after the row
        numbered ``after``, oldest first, and the number to ask after next (None at the end).
        With ``max_bytes``, the page also stops before its predictions' and labels' stored JSON
        passes that many bytes (it always holds one row)."""
        # A label joins its prediction only while no other logged prediction of the model
        # shares its request id and row (a client that reused its X-Request-Id after the label
        # came): one label is never counted for many predictions.
        other = prediction_log.alias("other")
        shared = (
            select(other.c.id)
            .where(
                other.c.model == prediction_log.c.model,
                other.c.request_id == prediction_log.c.request_id,
                func.coalesce(other.c.row_index, 0) == func.coalesce(prediction_log.c.row_index, 0),
                other.c.id != prediction_log.c.id,
            )
            .exists()
        )
        joined = prediction_log.join(
            prediction_labels,
            and_(
                prediction_labels.c.model == prediction_log.c.model,
                prediction_labels.c.request_id == prediction_log.c.request_id,
                prediction_labels.c.row_index == prediction_log.c.row_index,
                ~shared,
            ),
        )
        query = _logged(
            select(
                prediction_log.c.id,
                prediction_log.c.time_ms,
                prediction_log.c.version,
                prediction_log.c.request_id,
                prediction_log.c.row_index,
                prediction_log.c.prediction,
                prediction_labels.c.label,
            ).select_from(joined),
            model,
            version,
            since_ms,
        )
        query = query.where(prediction_log.c.id > after).order_by(prediction_log.c.id)
        with self.meta.read() as connection:
            rows = connection.execute(query.limit(limit + 1)).all()
        if max_bytes is not None:
            total = 0
            for index, row in enumerate(rows):
                total += len(row.prediction) + len(row.label)
                if index and total > max_bytes:
                    rows, limit = rows[: index + 1], index
                    break
        page = [
            LabelledPrediction(
                id=row.id,
                time_ms=row.time_ms,
                version=row.version,
                request_id=row.request_id,
                row=row.row_index,
                prediction=json.loads(row.prediction),
                label=json.loads(row.label),
            )
            for row in rows[:limit]
        ]
        return page, (page[-1].id if len(rows) > limit else None)

    def labelled_predictions(
        self, model: str, version: int | None = None, since_ms: int | None = None
    ) -> list[LabelledPrediction]:
        """Every logged prediction of ``model`` (one version, since a time) with its label."""
        found: list[LabelledPrediction] = []
        after: int | None = 0
        while after is not None:
            page, after = self.labelled_page(model, version, since_ms, after)
            found.extend(page)
        return found

    def record_performance(
        self, model: str, version: int, report: Mapping[str, Any], now_ms: int
    ) -> None:
        """Keep a performance check's report with the version it judged."""
        with self.meta.write() as connection:
            connection.execute(
                insert(performance_checks).values(
                    model=model,
                    version=version,
                    time_ms=now_ms,
                    status=str(report["status"]),
                    report=json.dumps(report),
                )
            )

    def performance_history(self, model: str, version: int) -> list[dict[str, Any]]:
        """The performance checks of a model version, oldest first: each report with its time."""
        query = (
            select(performance_checks.c.time_ms, performance_checks.c.report)
            .where(performance_checks.c.model == model, performance_checks.c.version == version)
            .order_by(performance_checks.c.id)
        )
        with self.meta.read() as connection:
            return [
                {**json.loads(row.report), "time_ms": row.time_ms}
                for row in connection.execute(query)
            ]

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
    query: Select[Any],
    model: str,
    version: int | None,
    since_ms: int | None,
    until_ms: int | None = None,
) -> Select[Any]:
    query = query.where(prediction_log.c.model == model)
    if version is not None:
        query = query.where(prediction_log.c.version == version)
    if since_ms is not None:
        query = query.where(prediction_log.c.time_ms >= since_ms)
    if until_ms is not None:
        query = query.where(prediction_log.c.time_ms < until_ms)
    return query
