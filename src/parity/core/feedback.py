"""Ground truth for served predictions: request ids, labels as they arrive, what was kept.

A model server gives every prediction request an id (the client's ``X-Request-Id`` when it is
sane, otherwise one it makes) and logs it with each sampled row; labels come back later naming
that id, and the row of the request when it held several (row 0 otherwise).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from parity.core.errors import UsageError

# What a client may choose as a request id: printable, short, safe in a header and a file name.
REQUEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$"
_REQUEST_ID = re.compile(REQUEST_ID_PATTERN)
# The most labels one request or one file batch may carry, and rows one request may hold.
MAX_LABELS = 10_000
MAX_ROW = 1_000_000
# Unknown request ids named in a receipt (all of them are counted).
UNKNOWN_SHOWN = 20


def is_request_id(text: str) -> bool:
    return _REQUEST_ID.fullmatch(text) is not None


# The largest label magnitude kept (a whole number or a float): past it a label is not a class
# nor a measurement any metric can use, and it would break scoring.
MAX_LABEL_MAGNITUDE = 2**53
MAX_LABEL_TEXT = 256


def check_label(value: Any, where: str) -> Any:
    """A label is one JSON scalar: a class (string, whole number, boolean) or a finite number."""
    if value is None or not isinstance(value, (str, int, float)):
        raise UsageError(
            f"{where}: a label must be a number, a string or a boolean, not {type(value).__name__}"
        )
    if isinstance(value, float) and value != value:  # NaN: no ground truth
        raise UsageError(f"{where}: the label is NaN")
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise UsageError(f"{where}: the label is infinite", hint="send a finite number")
    if not isinstance(value, (bool, str)) and abs(value) > MAX_LABEL_MAGNITUDE:
        raise UsageError(
            f"{where}: the label {value!r} is out of range (at most {MAX_LABEL_MAGNITUDE:.0e}"
            " in size)",
            hint="send the class or the measured value the model predicts",
        )
    if isinstance(value, str) and not 0 < len(value) <= MAX_LABEL_TEXT:
        raise UsageError(f"{where}: a text label must be 1 to {MAX_LABEL_TEXT} characters")
    return value


def read_feedback(document: Any) -> list[dict[str, Any]]:
    """Labels as a client sends them: a list of ``{request_id, label[, row]}`` objects, or an
    object of columns ``{"request_id": [...], "label": [...][, "row": [...]]}``, or either
    under a ``"labels"`` key. Raises ``UsageError`` naming the first thing wrong."""
    if isinstance(document, Mapping) and set(document) == {"labels"}:
        document = document["labels"]
    if isinstance(document, Mapping):
        document = _columns_to_items(document)
    if not isinstance(document, list):
        raise UsageError(
            "send a JSON list of {request_id, label} objects, or columns request_id and label"
        )
    if not document:
        raise UsageError("no labels were sent")
    if len(document) > MAX_LABELS:
        raise UsageError(
            f"{len(document)} labels in one request; send at most {MAX_LABELS}",
            hint="split the labels into several requests",
        )
    return [_item(entry, index) for index, entry in enumerate(document)]


def _columns_to_items(columns: Mapping[str, Any]) -> list[Any]:
    unknown = set(columns) - {"request_id", "label", "row"}
    if unknown or not {"request_id", "label"} <= set(columns):
        raise UsageError(
            "labels as columns need 'request_id' and 'label' lists (and an optional 'row')"
            + (f"; unknown: {', '.join(sorted(map(str, unknown)))}" if unknown else "")
        )
    lists = {name: columns[name] for name in columns}
    if not all(isinstance(v, list) for v in lists.values()):
        raise UsageError("each column of labels must be a list")
    if len({len(v) for v in lists.values()}) != 1:
        raise UsageError("the columns of labels differ in length")
    names = list(lists)
    return [dict(zip(names, values, strict=True)) for values in zip(*lists.values(), strict=True)]


def _item(entry: Any, index: int) -> dict[str, Any]:
    where = f"item {index}"
    if not isinstance(entry, Mapping):
        raise UsageError(f"{where}: expected an object with request_id and label")
    unknown = set(entry) - {"request_id", "label", "row"}
    if unknown:
        raise UsageError(f"{where}: unknown field {sorted(map(str, unknown))[0]!r}")
    request_id = entry.get("request_id")
    if not isinstance(request_id, str) or not is_request_id(request_id):
        raise UsageError(
            f"{where}: request_id must be the id a prediction response carried "
            f"(1-64 letters, digits, '.', '_', ':', '-'), got {request_id!r}"
        )
    if "label" not in entry:
        raise UsageError(f"{where}: no label")
    row = entry.get("row", 0)
    if isinstance(row, bool) or not isinstance(row, int) or not 0 <= row <= MAX_ROW:
        raise UsageError(f"{where}: row must be a whole number from 0, got {row!r}")
    return {"request_id": request_id, "row": row, "label": check_label(entry["label"], where)}


@dataclass(frozen=True)
class LabelReceipt:
    """What came of a batch of labels: how many were received and kept, the requests no
    logged prediction answered (not sampled, another model's, or never served), and the
    ambiguous ones: a request id (and row) several logged predictions share, because a client
    reused its ``X-Request-Id``; one label cannot say which of them it is the truth of."""

    received: int
    stored: int
    unknown: int
    unknown_ids: tuple[str, ...] = ()
    ambiguous: int = 0
    ambiguous_ids: tuple[str, ...] = ()

    def merged(self, other: LabelReceipt) -> LabelReceipt:
        shown = (self.unknown_ids + other.unknown_ids)[:UNKNOWN_SHOWN]
        return LabelReceipt(
            self.received + other.received,
            self.stored + other.stored,
            self.unknown + other.unknown,
            shown,
            self.ambiguous + other.ambiguous,
            (self.ambiguous_ids + other.ambiguous_ids)[:UNKNOWN_SHOWN],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "stored": self.stored,
            "unknown": self.unknown,
            "unknown_ids": list(self.unknown_ids),
            "ambiguous": self.ambiguous,
            "ambiguous_ids": list(self.ambiguous_ids),
        }

    @property
    def hints(self) -> tuple[str, ...]:
        """What to do about the labels not kept, one sentence each."""
        found = []
        if self.unknown:
            found.append(
                "a model server logs only a sample of its requests, and a label can join only a"
                " logged one (parity serve --log-sample 1.0 logs every request)"
            )
        if self.ambiguous:
            found.append(
                "several logged predictions share those request ids (a client reused its"
                " X-Request-Id), so one label cannot say which it is for; give each request its"
                " own id"
            )
        return tuple(found)

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> LabelReceipt:
        return cls(
            int(document["received"]),
            int(document["stored"]),
            int(document["unknown"]),
            tuple(str(i) for i in document.get("unknown_ids", ())),
            int(document.get("ambiguous", 0)),
            tuple(str(i) for i in document.get("ambiguous_ids", ())),
        )


def unknown_receipt(
    received: int,
    stored: int,
    unknown: Sequence[tuple[str, int]],
    ambiguous: Sequence[tuple[str, int]] = (),
) -> LabelReceipt:
    """A receipt naming the first unknown and ambiguous request ids (a row past 0 as
    ``id#row``)."""

    def named(keys: Sequence[tuple[str, int]]) -> tuple[str, ...]:
        shown = [request_id if row == 0 else f"{request_id}#{row}" for request_id, row in keys]
        return tuple(shown[:UNKNOWN_SHOWN])

    return LabelReceipt(
        received, stored, len(unknown), named(unknown), len(ambiguous), named(ambiguous)
    )


@dataclass(frozen=True)
class LabelledPrediction:
    """A logged prediction with the label that came back for it."""

    id: int
    time_ms: int
    version: int
    request_id: str
    row: int
    prediction: Any
    label: Any

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "time_ms": self.time_ms,
            "version": self.version,
            "request_id": self.request_id,
            "row": self.row,
            "prediction": self.prediction,
            "label": self.label,
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> LabelledPrediction:
        return cls(
            int(document["id"]),
            int(document["time_ms"]),
            int(document["version"]),
            str(document["request_id"]),
            int(document["row"]),
            document["prediction"],
            document["label"],
        )
