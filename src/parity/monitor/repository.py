"""What monitoring keeps, embedded or through a server: the ``Monitoring`` protocol.

Model servers append sampled predictions; drift checks read back the logged inputs of a model
and the profile each training data version was given; labels that come back are joined to the
logged rows by request id, and performance checks read the pairs and keep their verdicts.
``logged.MonitorStore`` (SQL) and ``remote.RemoteMonitorStore`` (HTTP) both satisfy it; the
workspace hands out one or the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from parity.core.feedback import LabelledPrediction, LabelReceipt

# The fields of one logged prediction, as a model server hands them over.
PREDICTION_FIELDS = (
    "time_ms",
    "model",
    "version",
    "environment_id",
    "data_version",
    "inputs",  # the input row, a list in the signature's column order
    "prediction",  # the value the model answered for it
    "request_id",  # the id of the request that asked (optional)
    "row",  # the row's place in that request (optional)
)


class Monitoring(Protocol):
    def append_predictions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Keep a batch of logged predictions (each with the ``PREDICTION_FIELDS``) at once."""
        ...

    def logged_inputs(
        self,
        model: str,
        version: int | None = None,
        since_ms: int | None = None,
        *,
        until_ms: int | None = None,
        newest: int | None = None,
    ) -> list[list[Any]]:
        """The logged input rows of a model (optionally one version, logged at or after
        ``since_ms`` and before ``until_ms``; with ``newest``, only that many of the latest),
        oldest first."""
        ...

    def profile_of(self, data_version: str) -> str | None:
        """The id of the profile record of ``data_version``, if one was made."""
        ...

    def remember_profile(self, data_version: str, profile_id: str, now_ms: int) -> None:
        """Keep ``profile_id`` as the profile of ``data_version`` (the first one made stays)."""
        ...

    def store_labels(
        self, model: str, labels: Sequence[Mapping[str, Any]], now_ms: int
    ) -> LabelReceipt:
        """Keep labels (``request_id``, ``row``, ``label``) joined to ``model``'s logged rows;
        the receipt counts and names those no logged row answered."""
        ...

    def labelled_predictions(
        self, model: str, version: int | None = None, since_ms: int | None = None
    ) -> list[LabelledPrediction]:
        """The logged predictions of a model that have a label, oldest first."""
        ...

    def record_performance(
        self, model: str, version: int, report: Mapping[str, Any], now_ms: int
    ) -> None:
        """Keep a performance check's report with the model version it judged."""
        ...

    def performance_history(self, model: str, version: int) -> list[dict[str, Any]]:
        """The performance reports of a model version, oldest first, each with ``time_ms``."""
        ...
