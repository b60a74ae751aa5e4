"""The run's own noise, measured by running it N times (``--runs N``): what varies between runs
that share everything Parity records, and by how much.

A metric's band is the range of its N values, widened by its own width on each side: N is small
(three runs say little about the tails), and a difference inside that is the run's nature, not a
change in its environment, code or data. A file or model is noisy when its bytes differ between
the N runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from parity.core.run import RunView
from parity.repro.compare import NOT_COMPARED
from parity.repro.outcome import Comparison


@dataclass(frozen=True)
class Band:
    key: str
    low: float
    high: float

    @property
    def width(self) -> float:
        return self.high - self.low

    def holds(self, value: float) -> bool:
        return self.width > 0 and self.low - self.width <= value <= self.high + self.width

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.key, "low": self.low, "high": self.high, "width": self.width}


@dataclass(frozen=True)
class Noise:
    runs: int
    bands: tuple[Band, ...]
    varying: tuple[str, ...]  # artifact and output paths whose bytes differ between the runs

    def band(self, key: str) -> Band | None:
        return next((b for b in self.bands if b.key == key), None)

    @property
    def measured(self) -> bool:
        return any(b.width > 0 for b in self.bands) or bool(self.varying)

    def explains(self, comparison: Comparison) -> bool:
        """Is this difference from the original within what re-runs differ by anyway?"""
        if comparison.kind == "metric":
            band = self.band(comparison.subject)
            return (
                band is not None
                and isinstance(comparison.original, float)
                and band.holds(comparison.original)
            )
        root = comparison.subject.split("/")[0]
        return comparison.subject in self.varying or root in self.varying

    def to_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "bands": [b.to_dict() for b in self.bands],
            "varying": list(self.varying),
        }


def measure_noise(attempts: Sequence[RunView]) -> Noise:
    """The spread of the re-runs' metrics and the files whose bytes they disagree on."""
    keys = sorted({key for view in attempts for key in view.metrics})
    bands = []
    for key in keys:
        values = [v for view in attempts if isinstance(v := view.metrics.get(key), float)]
        if len(values) == len(attempts):
            bands.append(Band(key, min(values), max(values)))
    digests: dict[str, set[str]] = {}
    for view in attempts:
        for artifact in view.artifacts:
            if artifact.kind not in NOT_COMPARED:
                digests.setdefault(artifact.path, set()).add(artifact.digest)
        for link in view.outputs:
            digests.setdefault(link.path, set()).add(link.data_version)
    varying = tuple(sorted(path for path, seen in digests.items() if len(seen) > 1))
    return Noise(len(attempts), tuple(bands), varying)
