"""Is what a model is served drifting from what it was trained on? Effect sizes, not p-values.

Each numeric feature is flagged when its KS statistic or PSI exceeds a threshold that is the
larger of a minimum effect worth acting on and the column's noise floor (measured on held-out
chunks of the training data, scaled to the sample size). Large samples therefore do not raise
alarms on negligible shifts, and small ones are not flagged on noise.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from parity.core.profile import CategoricalProfile, NoiseFloor, NumericProfile, Profile
from parity.monitor.extra import monitor_extra_missing
from parity.monitor.statistics import category_psi, ks_statistic, psi

try:
    import numpy as np
except ModuleNotFoundError as exc:  # a base install: drift needs the monitor extra
    raise monitor_extra_missing(exc) from exc

MIN_ROWS = 100
MIN_EFFECT_KS = 0.1
MIN_EFFECT_PSI = 0.1


@dataclass(frozen=True)
class FeatureDrift:
    name: str
    rows: int
    psi: float
    ks: float | None
    psi_threshold: float
    ks_threshold: float | None
    drifted: bool
    milliseconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": self.rows,
            "psi": round(self.psi, 6),
            "ks": None if self.ks is None else round(self.ks, 6),
            "psi_threshold": round(self.psi_threshold, 6),
            "ks_threshold": None if self.ks_threshold is None else round(self.ks_threshold, 6),
            "drifted": self.drifted,
            "milliseconds": round(self.milliseconds, 3),
        }


@dataclass(frozen=True)
class DriftReport:
    rows: int
    min_rows: int
    features: tuple[FeatureDrift, ...]

    @property
    def enough_rows(self) -> bool:
        return self.rows >= self.min_rows

    @property
    def drifted(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features if f.drifted)

    @property
    def ok(self) -> bool:
        return not self.drifted

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "min_rows": self.min_rows,
            "enough_rows": self.enough_rows,
            "ok": self.ok,
            "drifted": list(self.drifted),
            "features": [f.to_dict() for f in self.features],
        }

    def to_markdown(self, title: str) -> str:
        lines = [f"# Drift report: {title}", ""]
        if not self.enough_rows:
            lines.append(f"Only {self.rows} rows were logged; at least {self.min_rows} are needed.")
            return "\n".join(lines) + "\n"
        verdict = "drift in " + ", ".join(self.drifted) if self.drifted else "no drift"
        lines += [f"{self.rows} rows checked: **{verdict}**.", ""]
        lines += [
            "| feature | PSI | PSI limit | KS | KS limit | drifted |",
            "|---|---|---|---|---|---|",
        ]
        for f in self.features:
            ks = "-" if f.ks is None else f"{f.ks:.4f}"
            ks_limit = "-" if f.ks_threshold is None else f"{f.ks_threshold:.4f}"
            mark = "yes" if f.drifted else ""
            lines.append(
                f"| {f.name} | {f.psi:.4f} | {f.psi_threshold:.4f} | {ks} | {ks_limit} | {mark} |"
            )
        return "\n".join(lines) + "\n"


def _noise_at(floors: tuple[NoiseFloor, ...], rows: int) -> tuple[float, float]:
    """The noise floor (PSI, KS) scaled from the nearest calibrated chunk size to ``rows``."""
    if not floors:
        return 0.0, 0.0
    nearest = min(floors, key=lambda f: abs(math.log(f.rows / rows)))
    ratio = nearest.rows / rows
    # KS noise shrinks like 1/sqrt(n); PSI, a chi-square-like sum, like 1/n.
    return nearest.psi * ratio, nearest.ks * math.sqrt(ratio)


def check_numeric(profile: NumericProfile, sample: np.ndarray[Any, Any]) -> FeatureDrift:
    started = time.perf_counter()
    values = sample[~np.isnan(sample)]
    quantiles = np.asarray(profile.quantiles)
    ks = ks_statistic(quantiles, values)
    index = psi(np.asarray(profile.psi_edges), np.asarray(profile.psi_reference), values)
    psi_noise, ks_noise = _noise_at(profile.noise, max(len(values), 1))
    psi_limit, ks_limit = max(MIN_EFFECT_PSI, psi_noise), max(MIN_EFFECT_KS, ks_noise)
    elapsed = (time.perf_counter() - started) * 1000
    drifted = ks > ks_limit or index > psi_limit
    return FeatureDrift(profile.name, len(values), index, ks, psi_limit, ks_limit, drifted, elapsed)


def check_categorical(profile: CategoricalProfile, sample: list[Any]) -> FeatureDrift:
    started = time.perf_counter()
    index = category_psi(dict(profile.frequencies), sample)
    elapsed = (time.perf_counter() - started) * 1000
    drifted = index > MIN_EFFECT_PSI
    return FeatureDrift(
        profile.name, len(sample), index, None, MIN_EFFECT_PSI, None, drifted, elapsed
    )


def _table(rows: list[list[Any]], width: int) -> np.ndarray[Any, Any]:
    """The rows as a 2-D object array, also when a logged value is itself a list."""
    try:
        table = np.asarray(rows, dtype=object)
    except ValueError:  # a nested list of another length: numpy cannot make it one block
        table = np.empty(0)
    if table.shape == (len(rows), width):
        return table
    table = np.empty((len(rows), width), dtype=object)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            table[i, j] = value
    return table


def _numbers(column: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """A column as floats, whatever was logged: a value that is not a number becomes NaN."""
    try:
        return column.astype(float)
    except (TypeError, ValueError):
        return np.array(
            [
                float(v) if isinstance(v, int | float) and not isinstance(v, bool) else np.nan
                for v in column
            ]
        )


def check_drift(
    profile: Profile, columns: tuple[str, ...], rows: list[list[Any]], min_rows: int = MIN_ROWS
) -> DriftReport:
    """Compare logged ``rows`` (in ``columns`` order) with the training ``profile``.

    A row of another width than ``columns`` is not the model's input and is left out; a value
    that is not a number in a numeric column counts as missing.
    """
    rows = [row for row in rows if isinstance(row, list) and len(row) == len(columns)]
    if len(rows) < min_rows:
        return DriftReport(len(rows), min_rows, ())
    table = _table(rows, len(columns))
    features = []
    for index, name in enumerate(columns):
        reference = profile.column(name)
        if isinstance(reference, NumericProfile):
            features.append(check_numeric(reference, _numbers(table[:, index])))
        elif isinstance(reference, CategoricalProfile):
            features.append(check_categorical(reference, table[:, index].tolist()))
    return DriftReport(len(rows), min_rows, tuple(features))
