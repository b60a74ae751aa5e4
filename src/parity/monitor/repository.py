"""What monitoring keeps, embedded or through a server: the ``Monitoring`` protocol.

Model servers append sampled predictions; drift checks read back the logged inputs of a model
and the profile each training data version was given. ``logged.MonitorStore`` (SQL) and
``remote.RemoteMonitorStore`` (HTTP) both satisfy it; the workspace hands out one or the other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

# The fields of one logged prediction, as a model server hands them over.
PREDICTION_FIELDS = (
    "time_ms",
    "model",
    "version",
    "environment_id",
    "data_version",
    "inputs",  # the input row, a list in the signature's column order
    "prediction",  # the value the model answered for it
)


class Monitoring(Protocol):
    def append_predictions(self, rows: Sequence[Mapping[str, Any]]) -> None:
        """Keep a batch of logged predictions (each with the ``PREDICTION_FIELDS``) at once."""
        ...

    def logged_inputs(
        self, model: str, version: int | None = None, since_ms: int | None = None
    ) -> list[list[Any]]:
        """The logged input rows of a model (optionally one version, since a time), oldest
        first."""
        ...

    def profile_of(self, data_version: str) -> str | None:
        """The id of the profile record of ``data_version``, if one was made."""
        ...

    def remember_profile(self, data_version: str, profile_id: str, now_ms: int) -> None:
        """Keep ``profile_id`` as the profile of ``data_version`` (the first one made stays)."""
        ...
