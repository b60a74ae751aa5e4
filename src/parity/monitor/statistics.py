"""PSI and KS computed from a profile's quantile grid in one binning pass over the sample."""

from __future__ import annotations

from typing import Any

from parity.monitor.extra import monitor_extra_missing

try:
    import numpy as np
except ModuleNotFoundError as exc:  # a base install: drift needs the monitor extra
    raise monitor_extra_missing(exc) from exc

# Shares below this are floored so an empty bin does not make PSI infinite.
_PSI_FLOOR = 1e-4


def ks_statistic(quantiles: np.ndarray[Any, Any], sample: np.ndarray[Any, Any]) -> float:
    """Largest gap between the reference CDF (the grid's probabilities) and the sample's.

    Exact up to the grid's resolution (1/(Q) for Q intervals). The sample's CDF is read on both
    sides of each grid point (share of values < q_i and <= q_i) so ties cannot hide a gap.
    """
    probabilities = np.linspace(0.0, 1.0, len(quantiles))
    # Sort the sample once and search the (short) grid into it: two passes over Q points
    # instead of two binary searches per sample value.
    ordered = np.sort(sample)
    total = max(len(sample), 1)
    below = np.searchsorted(ordered, quantiles, side="left") / total
    at_or_below = np.searchsorted(ordered, quantiles, side="right") / total
    return float(
        max(np.max(np.abs(below - probabilities)), np.max(np.abs(at_or_below - probabilities)))
    )


def psi(
    edges: np.ndarray[Any, Any], reference: np.ndarray[Any, Any], sample: np.ndarray[Any, Any]
) -> float:
    """Population stability index of ``sample`` over fixed bins against reference shares."""
    counts = np.bincount(np.searchsorted(edges, sample, side="right"), minlength=len(edges) + 1)
    current = np.maximum(counts / max(len(sample), 1), _PSI_FLOOR)
    expected = np.maximum(reference, _PSI_FLOOR)
    return float(np.sum((current - expected) * np.log(current / expected)))


def category_psi(reference: dict[str, float], sample: list[Any]) -> float:
    values, counts = np.unique(
        np.asarray([str(v) for v in sample], dtype=object), return_counts=True
    )
    shares = dict(zip(values.tolist(), (counts / max(len(sample), 1)).tolist(), strict=True))
    other = sum(v for k, v in shares.items() if k not in reference)
    total = 0.0
    for category, expected in reference.items():
        current = other if category == "__other__" else shares.get(category, 0.0)
        current, expected = max(current, _PSI_FLOOR), max(expected, _PSI_FLOOR)
        total += (current - expected) * np.log(current / expected)
    return float(total)
