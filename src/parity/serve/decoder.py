"""Turn the shapes request payloads come in into the model's input matrix, in training order.

Built once from the signature, so each request is a JSON parse and one array build: no
per-request DataFrame. Knows shapes (records, a columns/data split, column lists, rows, a ready
array), not protocols: each protocol module says which of its payloads is which shape. Every
value passes the column's rule (``column_rules``); rows of plain numbers for an all-numeric
model take a fast path that checks them at NumPy speed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from parity.core.model import Signature
from parity.serve.column_rules import ColumnRules, Kind, PayloadError

_PLAIN_NUMBERS = frozenset({int, float})


@dataclass(frozen=True)
class RequestDecoder:
    rules: ColumnRules
    dtype: np.dtype[Any]  # one dtype for the whole matrix: float64 when every column is numeric

    @classmethod
    def from_signature(cls, signature: Signature) -> RequestDecoder:
        rules = ColumnRules.from_signature(signature)
        return cls(rules, np.dtype(np.float64) if rules.numeric else np.dtype(object))

    @property
    def columns(self) -> tuple[str, ...]:
        return self.rules.names

    # the shapes payloads come in ------------------------------------------------------------------
    def from_records(self, records: Any) -> np.ndarray[Any, Any]:
        if not isinstance(records, list) or not records:
            raise PayloadError("records must be a non-empty list of objects")
        rows = []
        for record in records:
            if not isinstance(record, dict):
                raise PayloadError("each record must be an object of column: value")
            try:
                rows.append([record[c] for c in self.columns])
            except KeyError as exc:
                raise PayloadError(f"missing column {exc.args[0]!r}") from None
        return self._build(rows)

    def from_split(self, columns: Any, data: Any) -> np.ndarray[Any, Any]:
        if not isinstance(columns, list) or not isinstance(data, list) or not data:
            raise PayloadError("'columns' must be a list and 'data' a non-empty list of rows")
        position: dict[str, int] = {}
        for index, name in enumerate(columns):
            position.setdefault(str(name), index)
        order = [position[c] for c in self.require_columns(position)]
        if order == list(range(len(columns))):
            return self._build(data)
        rows = []
        for row in data:
            if not isinstance(row, list) or len(row) != len(columns):
                raise PayloadError(
                    f"every row in 'data' must be a list of one value per column ({len(columns)})"
                )
            rows.append([row[i] for i in order])
        return self._build(rows)

    def from_column_lists(self, columns: Mapping[str, Any]) -> np.ndarray[Any, Any]:
        present = self.require_columns(columns)
        lengths = {len(columns[c]) if isinstance(columns[c], list) else -1 for c in present}
        if len(lengths) != 1 or -1 in lengths:
            raise PayloadError("each column must be a list, all of the same length")
        return self._build([list(row) for row in zip(*(columns[c] for c in present), strict=True)])

    def from_rows(self, rows: Any) -> np.ndarray[Any, Any]:
        if not isinstance(rows, list) or not rows:
            raise PayloadError("rows must be a non-empty list")
        if len(self.columns) == 1 and not any(isinstance(r, list) for r in rows):
            rows = [[value] for value in rows]  # one column's values, as MLflow takes them
        return self._build(rows)

    def from_array(self, matrix: np.ndarray[Any, Any], what: str) -> np.ndarray[Any, Any]:
        """An array already in training column order; ``what`` names it in the error message."""
        if matrix.ndim != 2 or matrix.shape[1] != len(self.columns):
            raise PayloadError(f"{what} must have {len(self.columns)} values each")
        if not len(matrix):
            raise PayloadError(f"{what}: no rows to predict")
        if self.dtype.kind != "f":
            return self._build_checked(matrix.tolist())
        if matrix.dtype != self.dtype:
            matrix = matrix.astype(self.dtype)
        self.rules.check_matrix(matrix)
        return matrix

    def from_trusted_split(self, columns: Sequence[str] | None, data: Any) -> np.ndarray[Any, Any]:
        """Rows Parity wrote itself (the golden rows), built as saved: no request checks."""
        if columns:
            position = {name: i for i, name in enumerate(columns)}
            data = [[row[position[c]] for c in self.columns] for row in data]
        return np.array(data, dtype=self.dtype)

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
        if self.dtype.kind == "f" and Kind.BOOLEAN not in self.rules.kinds:
            try:
                types = set(map(type, chain.from_iterable(rows)))
            except TypeError:  # a row that is not a list: the checked path names it
                types = set()
            if types and types <= _PLAIN_NUMBERS:
                try:
                    matrix = np.array(rows, dtype=self.dtype)
                except (ValueError, OverflowError):  # ragged rows, or an integer past float range
                    pass
                else:
                    return self.from_array(matrix, "rows")
        return self._build_checked(rows)

    def _build_checked(self, rows: Any) -> np.ndarray[Any, Any]:
        """Value by value, so a refusal names the column and the value."""
        if not isinstance(rows, list) or not rows:
            raise PayloadError("rows must be a non-empty list")
        width, check = len(self.columns), self.rules.check_value
        checked = []
        for row in rows:
            if not isinstance(row, list | tuple) or len(row) != width:
                raise PayloadError(f"rows must have {width} values each")
            checked.append([check(i, value) for i, value in enumerate(row)])
        if self.dtype.kind == "f":
            return np.array(checked, dtype=self.dtype)  # a null (nullable column) becomes NaN
        matrix = np.empty((len(checked), width), dtype=object)
        matrix[:] = checked
        return matrix
