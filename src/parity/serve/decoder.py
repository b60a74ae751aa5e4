"""Turn request payloads into the model's input matrix, in training column order.

Built once from the signature, so each request is a JSON parse and one array build: no
per-request DataFrame. Understands Parity's own payloads, MLflow's (``dataframe_split``,
``dataframe_records``, ``instances``, ``inputs``) and the Open Inference Protocol's tensors.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from parity.core.model import Signature

_OIP_TYPES = {
    "FP64": np.float64,
    "FP32": np.float32,
    "INT64": np.int64,
    "INT32": np.int32,
    "BOOL": np.bool_,
    "BYTES": np.object_,
}


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

    # one entry point per protocol ---------------------------------------------------------------
    def decode(self, payload: Any) -> np.ndarray[Any, Any]:
        """Parity's /predict: records, ``{"columns", "data"}``, or ``{"column": [values]}``."""
        if isinstance(payload, Mapping):
            if "records" in payload:
                return self.from_records(payload["records"])
            if "columns" in payload and "data" in payload:
                return self.from_split(payload["columns"], payload["data"])
            if (
                "inputs" in payload
                or "instances" in payload
                or any(k.startswith("dataframe_") for k in payload)
            ):
                return self.decode_mlflow(payload)
            return self.from_column_lists(payload)
        if isinstance(payload, list):
            return self.from_records(payload)
        raise PayloadError("send a JSON list of records or an object with 'columns' and 'data'")

    def decode_mlflow(self, payload: Any) -> np.ndarray[Any, Any]:
        if not isinstance(payload, Mapping):
            raise PayloadError("an MLflow payload is a JSON object")
        if "dataframe_split" in payload:
            split = payload["dataframe_split"]
            if not isinstance(split, Mapping) or "data" not in split:
                raise PayloadError("dataframe_split needs 'columns' and 'data'")
            return self.from_split(split.get("columns", list(self.columns)), split["data"])
        if "dataframe_records" in payload:
            return self.from_records(payload["dataframe_records"])
        for key in ("instances", "inputs"):
            if key in payload:
                value = payload[key]
                if isinstance(value, Mapping):
                    return self.from_column_lists(value)
                if isinstance(value, list) and value and isinstance(value[0], Mapping):
                    return self.from_records(value)
                return self.from_rows(value)
        raise PayloadError(
            "an MLflow payload needs one of dataframe_split, dataframe_records, instances, inputs"
        )

    def decode_oip(self, payload: Any) -> np.ndarray[Any, Any]:
        """Open Inference Protocol: one [rows, columns] tensor, or one tensor per column."""
        tensors = payload.get("inputs") if isinstance(payload, Mapping) else None
        if not isinstance(tensors, list) or not tensors:
            raise PayloadError("an inference request needs a non-empty 'inputs' list")
        if len(tensors) == 1 and len(self.columns) != 1:
            tensor = tensors[0]
            shape = tensor.get("shape") or []
            data = np.asarray(tensor.get("data"), dtype=self._oip_dtype(tensor))
            if len(shape) != 2 or shape[1] != len(self.columns):
                raise PayloadError(
                    f"tensor {tensor.get('name')!r} must have shape [rows, {len(self.columns)}]"
                )
            return self._convert(data.reshape(shape), "tensor")
        by_name = {str(t.get("name")): t for t in tensors}
        return self.from_column_lists(
            {name: by_name[name]["data"] for name in self._present(by_name)}
        )

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
        order = [position[c] for c in self._present(position)]
        if order == list(range(len(columns))):
            return self._build(data)
        try:
            return self._build([[row[i] for i in order] for row in data])
        except (IndexError, TypeError) as exc:
            raise PayloadError("every row in 'data' must have one value per column") from exc

    def from_column_lists(self, columns: Mapping[str, Any]) -> np.ndarray[Any, Any]:
        present = self._present(columns)
        lengths = {len(columns[c]) if isinstance(columns[c], list) else -1 for c in present}
        if len(lengths) != 1 or -1 in lengths:
            raise PayloadError("each column must be a list, all of the same length")
        return self._build([list(row) for row in zip(*(columns[c] for c in present), strict=True)])

    def from_rows(self, rows: Any) -> np.ndarray[Any, Any]:
        if not isinstance(rows, list) or not rows:
            raise PayloadError("rows must be a non-empty list")
        return self._build(rows)

    # checks ---------------------------------------------------------------------------------------
    def _present(self, available: Mapping[str, Any] | Sequence[str]) -> tuple[str, ...]:
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
        return self._convert(matrix, "rows")

    def _convert(self, matrix: np.ndarray[Any, Any], what: str) -> np.ndarray[Any, Any]:
        if matrix.ndim != 2 or matrix.shape[1] != len(self.columns):
            raise PayloadError(f"{what} must have {len(self.columns)} values each")
        if self.dtype.kind == "f" and matrix.dtype != self.dtype:
            matrix = matrix.astype(self.dtype)
        return matrix

    def _describe_bad_value(self, rows: Any) -> str:
        for index, name in enumerate(self.columns):
            for row in rows if isinstance(rows, list) else ():
                value = row[index] if isinstance(row, list) and index < len(row) else None
                try:
                    float(value)  # type: ignore[arg-type]
                except (TypeError, ValueError):
                    return f"column {name!r} expects a number, got {value!r}"
        return f"rows must have {len(self.columns)} values each"

    @staticmethod
    def _oip_dtype(tensor: Mapping[str, Any]) -> Any:
        datatype = str(tensor.get("datatype", "FP64"))
        if datatype not in _OIP_TYPES:
            raise PayloadError(f"unsupported datatype {datatype!r}")
        return _OIP_TYPES[datatype]
