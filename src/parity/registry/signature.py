"""Infer a model's signature and golden rows from an input example, without requiring pandas."""

from __future__ import annotations

from typing import Any

from parity.core.errors import UsageError
from parity.core.model import ColumnSpec, Signature

GOLDEN_ROWS = 20


def head(example: Any, rows: int = GOLDEN_ROWS) -> Any:
    """The first ``rows`` rows of a DataFrame, array or list of rows."""
    if hasattr(example, "iloc"):
        return example.iloc[:rows]
    if isinstance(example, dict):
        return {key: list(values)[:rows] for key, values in example.items()}
    return example[:rows]


def _has_missing(values: Any) -> bool:
    """Whether a column (or a whole array) holds a null: None, or NaN in a float column."""
    import numpy as np  # lazy: numpy loads only for array inputs and outputs

    array = np.asarray(values)
    if array.dtype.kind in "fc":
        return bool(np.isnan(array).any())
    if array.dtype.kind == "O":
        return any(v is None or (isinstance(v, float) and v != v) for v in array.ravel())
    return False


def _columns_of(example: Any, model: object) -> list[ColumnSpec]:
    import numpy as np  # lazy: numpy loads only for array inputs and outputs

    if hasattr(example, "dtypes") and hasattr(example, "columns"):
        return [
            ColumnSpec(str(n), str(t), nullable=bool(example[n].isna().any()))
            for n, t in zip(example.columns, example.dtypes, strict=True)
        ]
    if isinstance(example, dict):
        return [
            ColumnSpec(str(k), str(np.asarray(v).dtype), nullable=_has_missing(v))
            for k, v in example.items()
        ]
    array = np.asarray(example)
    if array.ndim != 2:
        raise UsageError(
            f"an input example must be a table (2 dimensions), got {array.ndim}",
            hint="pass a DataFrame, a 2-D array or a list of rows",
        )
    names = getattr(model, "feature_names_in_", None)
    if names is None or len(names) != array.shape[1]:
        names = [f"f{i}" for i in range(array.shape[1])]
    nullable = [_has_missing(array[:, i]) for i in range(array.shape[1])]
    return [
        ColumnSpec(str(name), str(array.dtype), nullable=missing)
        for name, missing in zip(names, nullable, strict=True)
    ]


def infer_signature(example: Any, predictions: Any, model: object) -> Signature:
    import numpy as np  # lazy: numpy loads only for array inputs and outputs

    outputs = np.asarray(predictions)
    output_specs: tuple[ColumnSpec, ...]
    if outputs.ndim <= 1:
        output_specs = (ColumnSpec("prediction", str(outputs.dtype)),)
    else:
        output_specs = tuple(
            ColumnSpec(f"output_{i}", str(outputs.dtype)) for i in range(outputs.shape[1])
        )
    return Signature(inputs=tuple(_columns_of(example, model)), outputs=output_specs)


def to_rows(example: Any) -> dict[str, Any]:
    """A JSON-ready ``{"columns": [...], "data": [[...], ...]}`` form of a table."""
    import numpy as np  # lazy: numpy loads only for array inputs and outputs

    if hasattr(example, "columns") and hasattr(example, "to_numpy"):
        return {
            "columns": [str(c) for c in example.columns],
            "data": example.to_numpy(dtype=object).tolist(),
        }
    if isinstance(example, dict):
        columns = list(example)
        return {"columns": columns, "data": [list(r) for r in zip(*example.values(), strict=True)]}
    return {"columns": None, "data": np.asarray(example).tolist()}


def predictions_to_json(predictions: Any) -> list[Any]:
    import numpy as np  # lazy: numpy loads only for array inputs and outputs

    result: list[Any] = np.asarray(predictions).tolist()
    return result
