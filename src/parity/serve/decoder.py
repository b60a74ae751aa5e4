"""Turn the shapes request payloads come in into the model's input matrix, in training order.

Built once from the signature, so each request is a JSON parse and one array build: no
per-request DataFrame. Knows shapes (records, a columns/data split, column lists, rows, a ready
array), not protocols: each protocol module says which of its payloads is which shape.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from parity.core.model import Signature


class PayloadError(ValueError):
    """The request cannot be read as the model's input; the message names what is wrong."""


@dataclass(frozen=True)
class RequestDecoder:
    columns: tuple[str, ...]
    dtype: np.dtype[Any]  # one dtype for the whole matrix: float64 when every column is numeric

    @classmethod
    def from_signature(cls, signature: Signature) -> RequestDecoder:
        kinds = {np.dtype(c.dtype).kind for c in signature.inputs}
        numeric = kinds <= {"f", "i", "u", "b"}
        return cls(signature.input_names, np.dtype(np.float64) if numeric else np.dtype(object))

    # the shapes payloads come in ------------------------------------------------------------------
    def from_records(self, records: Any) -> np.ndarray[Any, Any]:
        if not isinstance(records, list) or not records:
            raise PayloadError("records must be a non-empty list of objects")
        try:
            rows = [[record[c] for c in self.columns] for record in records]
        except KeyError as exc:
            raise PayloadError(f"missing column {exc.args[0]!r}") from exc
        except TypeError as exc:
            raise PayloadError("each record must be an object of column: value") from exc
        return self._build(rows)

    def from_split(self, columns: Any, data: Any) -> np.ndarray[Any, Any]:
        if not isinstance(columns, list) or not isinstance(data, list) or not data:
            raise PayloadError("'columns' must be a list and 'data' a non-empty list of rows")
        position = {str(c): i for i, c in enumerate(columns)}
        order = [position[c] for c in self.require_columns(position)]
        if order == list(range(len(columns))):
            return self._build(data)
        try:
            return self._build([[row[i] for i in order] for row in data])
        except (IndexError, TypeError) as exc:
            raise PayloadError("every row in 'data' must have one value per column") from exc

    def from_column_lists(self, columns: Mapping[str, Any]) -> np.ndarray[Any, Any]:
        present = self.require_columns(columns)
        lengths = {len(columns[c]) if isinstance(columns[c], list) else -1 for c in present}
        if len(lengths) != 1 or -1 in lengths:
            raise PayloadError("each column must be a list, all of the same length")
        return self._build([list(row) for row in zip(*(columns[c] for c in present), strict=True)])

    def from_rows(self, rows: Any) -> np.ndarray[Any, Any]:
        if not isinstance(rows, list) or not rows:
            raise PayloadError("rows must be a non-empty list")
        return self._build(rows)

    def from_array(self, matrix: np.ndarray[Any, Any], what: str) -> np.ndarray[Any, Any]:
        """An array already in training column order; ``what`` names it in the error message."""
        if matrix.ndim != 2 or matrix.shape[1] != len(self.columns):
            raise PayloadError(f"{what} must have {len(self.columns)} values each")
        if self.dtype.kind == "f" and matrix.dtype != self.dtype:
            matrix = matrix.astype(self.dtype)
        return matrix

    # checks ---------------------------------------------------------------------------------------
    def require_columns(self, available: Mapping[str, Any] | Sequence[str]) -> tuple[str, ...]:
        """The training columns, once all are in ``available``; else the first missing is named."""
        missing = [c for c in self.columns if c not in available]
        if missing:
            raise PayloadError(
                f"missing column {missing[0]!r}"
                + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
            )
        return self.columns

    def _build(self, rows: Any) -> np.ndarray[Any, Any]:
        try:
            matrix = np.array(rows, dtype=self.dtype)
        except (ValueError, TypeError):
            raise PayloadError(self._describe_bad_value(rows)) from None
        return self.from_array(matrix, "rows")

    def _describe_bad_value(self, rows: Any) -> str:
        for index, name in enumerate(self.columns):
            for row in rows if isinstance(rows, list) else ():
                value = row[index] if isinstance(row, list) and index < len(row) else None
                try:
                    float(value)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    return f"column {name!r} expects a number, got {value!r}"
        return f"rows must have {len(self.columns)} values each"
