"""Build a reference profile from a training table, calibrating each column's noise floor."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError
from parity.core.profile import CategoricalProfile, NoiseFloor, NumericProfile, Profile
from parity.monitor.extra import monitor_extra_missing
from parity.monitor.statistics import ks_statistic, psi

try:
    import numpy as np
except ModuleNotFoundError as exc:  # a base install: drift needs the monitor extra
    raise monitor_extra_missing(exc) from exc

QUANTILE_INTERVALS = 1000
PSI_BINS = 10
TOP_CATEGORIES = 50
# Held-out chunk sizes the noise floor is measured at, and draws per size.
CALIBRATION_ROWS = (100, 300, 1_000, 3_000, 10_000)
CALIBRATION_DRAWS = 100


def read_table(path: Path) -> Any:
    """A CSV or Parquet file as a DataFrame."""
    try:
        import pandas as pd  # lazy: pandas loads only to read a table
    except ModuleNotFoundError as exc:
        raise monitor_extra_missing(exc) from exc

    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix in (".csv", ".tsv", ".txt"):
            return pd.read_csv(path, sep="\t" if suffix == ".tsv" else ",")
    except ImportError as exc:  # no Parquet engine (pyarrow) in this install
        raise UsageError(
            f"reading {path.name} needs a Parquet engine, which is not installed",
            hint="pip install pyarrow",
        ) from exc
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", hint="give a CSV or Parquet table") from exc
    raise UsageError(f"{path.name} is not a table Parity can profile", hint="use .csv or .parquet")


def profile_numeric(name: str, column: np.ndarray[Any, Any], seed: int) -> NumericProfile:
    values = column[~np.isnan(column)]
    if len(values) == 0:
        raise UsageError(f"column {name!r} has no values to profile")
    quantiles = np.quantile(values, np.linspace(0.0, 1.0, QUANTILE_INTERVALS + 1))
    edges = np.unique(np.quantile(values, np.linspace(0.0, 1.0, PSI_BINS + 1)[1:-1]))
    counts = np.bincount(np.searchsorted(edges, values, side="right"), minlength=len(edges) + 1)
    reference = counts / len(values)
    rng = np.random.default_rng(seed)
    floors = []
    for rows in CALIBRATION_ROWS:
        if rows * 4 > len(values):
            break
        ks_draws, psi_draws = [], []
        for _ in range(CALIBRATION_DRAWS):
            chunk = values[rng.choice(len(values), size=rows, replace=False)]
            ks_draws.append(ks_statistic(quantiles, chunk))
            psi_draws.append(psi(edges, reference, chunk))
        floors.append(
            NoiseFloor(
                rows, float(np.quantile(psi_draws, 0.99)), float(np.quantile(ks_draws, 0.99))
            )
        )
    return NumericProfile(
        name=name,
        count=len(values),
        missing=int(len(column) - len(values)),
        mean=float(values.mean()),
        std=float(values.std()),
        quantiles=tuple(float(q) for q in quantiles),
        psi_edges=tuple(float(e) for e in edges),
        psi_reference=tuple(float(r) for r in reference),
        noise=tuple(floors),
    )


def profile_categorical(name: str, column: Any) -> CategoricalProfile:
    present = column.dropna().astype(str)
    shares = present.value_counts(normalize=True)
    top = shares.iloc[:TOP_CATEGORIES]
    frequencies = {str(k): float(v) for k, v in top.items()}
    rest = float(shares.iloc[TOP_CATEGORIES:].sum())
    if rest > 0:
        frequencies["__other__"] = rest
    return CategoricalProfile(name, len(present), int(column.isna().sum()), frequencies)


def profile_frame(frame: Any, data_version: str | None = None, seed: int = 0) -> Profile:
    """The profile of every column of a DataFrame."""
    numeric, categorical = [], []
    for index, name in enumerate(frame.columns):
        column = frame[name]
        if column.dtype.kind in "fiub":
            numeric.append(profile_numeric(str(name), column.to_numpy(dtype=float), seed + index))
        else:
            categorical.append(profile_categorical(str(name), column))
    return Profile(len(frame), tuple(numeric), tuple(categorical), data_version)


def profile_rows(rows: Sequence[Sequence[Any]], columns: Sequence[str]) -> Profile:
    """The profile of logged input rows (values in ``columns`` order), as of a table's."""
    import pandas as pd  # lazy: profiling a table reads it with pandas too

    return profile_frame(pd.DataFrame([list(row) for row in rows], columns=list(columns)))
