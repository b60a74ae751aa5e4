"""The verdict of a repro and its likely causes, ranked by the evidence for each.

- ``identical``: every metric, file and model the same (same bytes, or same values and
  predictions);
- ``within tolerance``: some numbers differ, all within their tolerance, or within the noise the
  re-runs measured (``--runs N``);
- ``different``: something differs beyond both;
- ``could not run``: a step failed (the code, the data, the environment or the command itself).

Causes, strongest evidence first: other input data (the re-run read another version), code that
could not be put back as it was, environment differences by risk (high before medium before
low), then the run's own noise: measured, or suspected when no seed was logged. An identical
re-run lists the same evidence as what differed without changing the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from parity.core.env_rules import EnvDiff, Risk
from parity.repro.noise import Noise
from parity.repro.outcome import Comparison, Outcome


class Verdict(StrEnum):
    """What a repro found: identical, within tolerance, different, or could not run."""

    IDENTICAL = "identical"
    WITHIN_TOLERANCE = "within tolerance"
    DIFFERENT = "different"
    COULD_NOT_RUN = "could not run"

    def __str__(self) -> str:
        return self.value

    def passes(self, strict: bool = False) -> bool:
        """Did the run reproduce? ``strict`` (``--strict-determinism``) takes only identical."""
        if strict:
            return self is Verdict.IDENTICAL
        return self in (Verdict.IDENTICAL, Verdict.WITHIN_TOLERANCE)


@dataclass(frozen=True)
class Cause:
    area: str  # "data" | "code" | "environment" | "noise" | "run"
    text: str
    weight: int  # how strongly the evidence points here; causes are listed by it

    def to_dict(self) -> dict[str, Any]:
        return {"area": self.area, "text": self.text, "weight": self.weight}


_RISK_WEIGHT = {Risk.HIGH: 70, Risk.MEDIUM: 45, Risk.LOW: 15}


@dataclass
class Evidence:
    """What might explain a difference, gathered while the repro ran."""

    data: list[str]  # "data/train.csv: 3f2a… → 9b1c…": inputs the re-run read at another version
    code: list[str]  # what could not be put back exactly
    environment: EnvDiff | None  # recorded vs used
    noise: Noise | None
    seeded: bool


def rank_causes(evidence: Evidence, differences: Sequence[Comparison]) -> list[Cause]:
    """Every likely cause of ``differences`` (may be empty), the strongest first."""
    causes = [Cause("data", f"input {text}", 100) for text in evidence.data]
    causes += [Cause("code", text, 60) for text in evidence.code]
    if evidence.environment is not None:
        for difference in evidence.environment.differences:
            if difference.risk in _RISK_WEIGHT:
                text = (
                    f"{difference.subject}: {difference.expected} → {difference.actual} "
                    f"({difference.risk} risk: {difference.reason})"
                )
                causes.append(Cause("environment", text, _RISK_WEIGHT[difference.risk]))
    noise = evidence.noise
    if noise is not None and noise.measured and differences:
        explained = [c for c in differences if noise.explains(c)]
        widths = (
            ", ".join(f"{b.key} varies by {b.width:.3g}" for b in noise.bands if b.width > 0)
            or "files differ between re-runs"
        )
        text = f"measured noise over {noise.runs} re-runs: {widths}"
        text += f"; {len(explained)} of {len(differences)} differences lie within it"
        causes.append(Cause("noise", text, 95 if len(explained) == len(differences) else 30))
    elif differences and not evidence.seeded:
        text = "no seed was logged: the run may draw other random numbers each time"
        causes.append(Cause("run", text, 20))
    return sorted(causes, key=lambda c: (-c.weight, c.area, c.text))


def decide(comparisons: Sequence[Comparison], noise: Noise | None) -> Verdict:
    """The verdict of a repro that ran, from what it compared."""
    outcomes = {c.outcome for c in comparisons}
    if outcomes <= {Outcome.IDENTICAL}:
        return Verdict.IDENTICAL
    different = [c for c in comparisons if c.outcome is Outcome.DIFFERENT]
    if not different:
        return Verdict.WITHIN_TOLERANCE
    if noise is not None and all(noise.explains(c) for c in different):
        return Verdict.WITHIN_TOLERANCE
    return Verdict.DIFFERENT
