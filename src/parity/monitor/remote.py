"""Monitoring kept by a Parity server, over HTTP: a ``Monitoring`` like the embedded store.

A model server sends its sampled predictions in batches; ``parity monitor drift`` reads the
logged inputs back a page at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import groupby
from typing import Any

from parity.core.errors import NotFoundError
from parity.core.feedback import MAX_LABELS, LabelledPrediction, LabelReceipt
from parity.core.ids import is_digest
from parity.store.http.client import ServerClient, segment

__all__ = ["RemoteMonitorStore"]

# Logged rows asked for per request while reading them back.
PAGE_ROWS = 10_000


class RemoteMonitorStore:
    """The prediction log and data profiles a Parity server keeps, through ``server``."""

    def __init__(self, server: ServerClient) -> None:
        self.server = server

    def append_predictions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Send a batch of logged predictions, one request per model. Not retried: a batch the
        server kept but whose answer was lost would be kept twice."""
        for model, group in groupby(rows, key=lambda row: str(row["model"])):
            sent = [{k: v for k, v in row.items() if k != "model"} for row in group]
            self.server.post(f"/models/{segment(model)}/predictions", {"rows": sent})

    def logged_inputs(
        self,
        model: str,
        version: int | None = None,
        since_ms: int | None = None,
        *,
        until_ms: int | None = None,
        newest: int | None = None,
    ) -> list[list[Any]]:
        # The server pages oldest first, so ``newest`` is cut here (a client's own read).
        found: list[list[Any]] = []
        after = 0
        while True:
            params: dict[str, Any] = {"after": after, "limit": PAGE_ROWS}
            if version is not None:
                params["version"] = version
            if since_ms is not None:
                params["since_ms"] = since_ms
            if until_ms is not None:
                params["until_ms"] = until_ms
            page = self.server.get(f"/models/{segment(model)}/predictions", params=params)
            found.extend(row["inputs"] for row in page["rows"])
            if page["next"] is None:
                return found if newest is None else found[len(found) - newest :]
            after = int(page["next"])

    def store_labels(
        self, model: str, labels: Sequence[Mapping[str, Any]], now_ms: int
    ) -> LabelReceipt:
        """Send labels in batches the server takes; the receipts added up. The server keeps
        its own time."""
        receipt = LabelReceipt(0, 0, 0)
        for start in range(0, len(labels), MAX_LABELS):
            sent = [dict(item) for item in labels[start : start + MAX_LABELS]]
            answer = self.server.post(f"/models/{segment(model)}/labels", {"labels": sent})
            receipt = receipt.merged(LabelReceipt.from_dict(answer))
        return receipt

    def labelled_predictions(
        self, model: str, version: int | None = None, since_ms: int | None = None
    ) -> list[LabelledPrediction]:
        found: list[LabelledPrediction] = []
        after = 0
        while True:
            params: dict[str, Any] = {"after": after, "limit": PAGE_ROWS}
            if version is not None:
                params["version"] = version
            if since_ms is not None:
                params["since_ms"] = since_ms
            page = self.server.get(f"/models/{segment(model)}/labels", params=params)
            found.extend(LabelledPrediction.from_dict(row) for row in page["rows"])
            if page["next"] is None:
                return found
            after = int(page["next"])

    def record_performance(
        self, model: str, version: int, report: Mapping[str, Any], now_ms: int
    ) -> None:
        self.server.post(
            f"/models/{segment(model)}/versions/{version}/performance", {"report": dict(report)}
        )

    def performance_history(self, model: str, version: int) -> list[dict[str, Any]]:
        answer = self.server.get(f"/models/{segment(model)}/versions/{version}/performance")
        return list(answer["checks"])

    def profile_of(self, data_version: str) -> str | None:
        if not is_digest(data_version):  # data versions are full ids: none has this name
            return None
        try:
            answer = self.server.get(f"/profiles/{segment(data_version)}")
        except NotFoundError:
            return None
        return str(answer["profile_id"])

    def remember_profile(self, data_version: str, profile_id: str, now_ms: int) -> None:
        self.server.put(f"/profiles/{segment(data_version)}", {"profile_id": profile_id})
