"""What a comparison of one thing (a metric, a file, a model, a data output) found: values.

Every comparison says ``identical`` (same bytes or same values), ``close`` (numbers that differ
within the tolerance) or ``different``, with the largest errors it measured and one line why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

# Relative tolerance of numbers when the user gives none: float sums done in another order
# differ around 1e-15; anything past 1e-9 is a real change.
DEFAULT_TOLERANCE = 1e-9


class Outcome(StrEnum):
    IDENTICAL = "identical"
    CLOSE = "close"
    DIFFERENT = "different"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Comparison:
    """One thing of the original run held against the same thing of the re-run."""

    kind: str  # "metric" | "artifact" | "model" | "output"
    subject: str  # the metric key or path
    outcome: Outcome
    detail: str  # one line: what was compared and what differed
    max_abs_error: float | None = None
    max_rel_error: float | None = None
    original: Any = None  # a metric's two values; None for files
    reproduced: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "outcome": str(self.outcome),
            "detail": self.detail,
            "max_abs_error": _rounded(self.max_abs_error),
            "max_rel_error": _rounded(self.max_rel_error),
            "original": self.original,
            "reproduced": self.reproduced,
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else float(f"{value:.6g}")


def relative_error(a: float, b: float) -> float:
    """|a − b| relative to the larger magnitude (0 when both are 0)."""
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0 else abs(a - b) / scale


def judge(errors: tuple[float, float], tolerance: float) -> Outcome:
    """``(max abs, max rel)`` errors of values that are not all equal: close or different."""
    return Outcome.CLOSE if errors[1] <= tolerance else Outcome.DIFFERENT
