"""Compare two files whose bytes differ by what they hold: tables, arrays, JSON, or just bytes.

Tables (CSV, TSV, Parquet) by schema, row count and per-column closeness; NumPy arrays (.npy,
.npz) by shape, dtype and the largest absolute and relative error; JSON canonicalised (key order
and spacing do not count) with numbers compared within the tolerance. Anything else whose bytes
differ is different. pandas and NumPy are imported only when such a file is compared.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from parity.repro.outcome import Comparison, Outcome, judge, relative_error

TABLES = {".csv": ",", ".tsv": "\t", ".parquet": None, ".pq": None}
ARRAYS = (".npy", ".npz")


def compare_files(
    kind: str, subject: str, original: Path, reproduced: Path, tolerance: float
) -> Comparison:
    """``original`` and ``reproduced`` hold different bytes: how different are their values?"""
    suffix = original.suffix.lower()
    try:
        if suffix in TABLES:
            return _tables(kind, subject, original, reproduced, tolerance, TABLES[suffix])
        if suffix in ARRAYS:
            return _arrays(kind, subject, original, reproduced, tolerance)
        if suffix == ".json":
            return _json(kind, subject, original, reproduced, tolerance)
    except (ValueError, OSError, KeyError) as exc:  # unreadable as its type: bytes decide
        return Comparison(kind, subject, Outcome.DIFFERENT, f"bytes differ ({exc})")
    return Comparison(kind, subject, Outcome.DIFFERENT, "bytes differ")


def _tables(
    kind: str, subject: str, a: Path, b: Path, tolerance: float, separator: str | None
) -> Comparison:
    import pandas as pd  # lazy: pandas (~0.5 s) only when a table is compared

    def read(path: Path) -> Any:
        if separator is None:
            return pd.read_parquet(path)
        return pd.read_csv(path, sep=separator)

    left, right = read(a), read(b)
    schema = [(str(c), str(t)) for c, t in left.dtypes.items()]
    if schema != [(str(c), str(t)) for c, t in right.dtypes.items()]:
        return Comparison(kind, subject, Outcome.DIFFERENT, "the table's columns or types differ")
    if len(left) != len(right):
        detail = f"{len(left)} rows, now {len(right)}"
        return Comparison(kind, subject, Outcome.DIFFERENT, detail)
    worst = (0.0, 0.0)
    worst_column = None
    for column in left.columns:
        x, y = left[column], right[column]
        if x.equals(y):
            continue
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y):
            errors = _errors(x.to_numpy(dtype=float), y.to_numpy(dtype=float))
            if errors is None:
                return Comparison(kind, subject, Outcome.DIFFERENT, f"{column}: missing values")
            if errors[1] > worst[1] or worst_column is None:
                worst, worst_column = errors, str(column)
            continue
        changed = int((x.astype(str) != y.astype(str)).sum())
        detail = f"column {column}: {changed} of {len(x)} values differ"
        return Comparison(kind, subject, Outcome.DIFFERENT, detail)
    if worst_column is None:
        return Comparison(kind, subject, Outcome.IDENTICAL, "same values, other bytes")
    detail = f"{len(left)} rows; column {worst_column} differs most"
    return Comparison(kind, subject, judge(worst, tolerance), detail, *worst)


def _errors(x: Any, y: Any) -> tuple[float, float] | None:
    """Largest absolute and relative error of two float arrays; None when NaNs sit apart."""
    import numpy as np  # lazy: NumPy only when arrays are compared

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    missing = np.isnan(x)
    if not np.array_equal(missing, np.isnan(y)):
        return None
    x, y = x[~missing], y[~missing]
    if x.size == 0:
        return (0.0, 0.0)
    difference = np.abs(x - y)
    scale = np.maximum(np.abs(x), np.abs(y))
    relative = np.divide(difference, scale, out=np.zeros_like(difference), where=scale > 0)
    return float(difference.max()), float(relative.max())


def _arrays(kind: str, subject: str, a: Path, b: Path, tolerance: float) -> Comparison:
    import numpy as np  # lazy: NumPy only when arrays are compared

    def arrays(path: Path) -> dict[str, Any]:
        loaded = np.load(path, allow_pickle=False)
        if isinstance(loaded, np.ndarray):
            return {"": loaded}
        with loaded:
            return {name: loaded[name] for name in loaded.files}

    left, right = arrays(a), arrays(b)
    if sorted(left) != sorted(right):
        return Comparison(kind, subject, Outcome.DIFFERENT, "other arrays in the archive")
    worst = (0.0, 0.0)
    for name in sorted(left):
        x, y = left[name], right[name]
        label = f"array {name}" if name else "the array"
        if x.shape != y.shape or x.dtype != y.dtype:
            detail = f"{label}: {x.dtype}{list(x.shape)}, now {y.dtype}{list(y.shape)}"
            return Comparison(kind, subject, Outcome.DIFFERENT, detail)
        if np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"):
            continue
        if x.dtype.kind not in "iufc":
            return Comparison(kind, subject, Outcome.DIFFERENT, f"{label}: values differ")
        errors = _errors(x.ravel(), y.ravel())
        if errors is None:
            return Comparison(kind, subject, Outcome.DIFFERENT, f"{label}: NaNs moved")
        worst = max(worst, errors, key=lambda e: e[1])
    if worst == (0.0, 0.0):
        return Comparison(kind, subject, Outcome.IDENTICAL, "same values, other bytes")
    return Comparison(kind, subject, judge(worst, tolerance), "array values differ", *worst)


def _json(kind: str, subject: str, a: Path, b: Path, tolerance: float) -> Comparison:
    left = json.loads(a.read_text(encoding="utf-8"))
    right = json.loads(b.read_text(encoding="utf-8"))
    if _canonical(left) == _canonical(right):
        return Comparison(kind, subject, Outcome.IDENTICAL, "same JSON, other spacing or order")
    errors = value_errors(left, right)
    if errors is None:
        return Comparison(kind, subject, Outcome.DIFFERENT, "the JSON documents differ")
    return Comparison(kind, subject, judge(errors, tolerance), "JSON numbers differ", *errors)


def _canonical(document: Any) -> str:
    return json.dumps(document, sort_keys=True, separators=(",", ":"))


def value_errors(left: Any, right: Any) -> tuple[float, float] | None:
    """The largest errors between the numbers of two documents of one shape; None otherwise."""
    if isinstance(left, bool) or isinstance(right, bool):
        return (0.0, 0.0) if left == right else None
    if isinstance(left, int | float) and isinstance(right, int | float):
        if math.isnan(left) or math.isnan(right):
            return (0.0, 0.0) if math.isnan(left) and math.isnan(right) else None
        return abs(left - right), relative_error(left, right)
    if isinstance(left, dict) and isinstance(right, dict):
        if sorted(left) != sorted(right):
            return None
        pairs = [(left[k], right[k]) for k in sorted(left)]
    elif isinstance(left, list) and isinstance(right, list):
        if len(left) != len(right):
            return None
        pairs = list(zip(left, right, strict=True))
    else:
        return (0.0, 0.0) if left == right else None
    worst = (0.0, 0.0)
    for x, y in pairs:
        found = value_errors(x, y)
        if found is None:
            return None
        worst = (max(worst[0], found[0]), max(worst[1], found[1]))
    return worst
