"""Before running anything: can the run be re-derived here, and how exactly should it match?

The prediction compares the environment the run was recorded in with the one it would re-run
in (same rules as ``env diff``) and reads what the run recorded of itself:

- ``bitwise``: same platform, CPU instruction sets, BLAS and thread settings, seeds logged;
- ``close``: numerics may differ in the last bits (other CPU flags, BLAS vendor or threads, a
  GPU, another patch of a native package) or no seed was logged;
- ``not expected``: another OS, architecture or Python, or packages the run imported at other
  major/minor versions.

Feasibility is checked too (the commit, the stored diff and files, the input data, an environment
record): what is missing makes the repro ``could not run`` before any compute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from parity.core.env_rules import EnvDiff, Risk

# Rules whose differences make numbers differ in their last bits, not in what they mean.
_NUMERIC_RULES = {
    "platform.cpu_flags",
    "native.blas_vendor",
    "native.version",
    "native.threads",
    "numerics.threads",
    "numerics.determinism",
    "package.native.patch",
    "cuda.runtime_minor",
    "cuda.cudnn",
}


class Expectation(StrEnum):
    """How exactly a re-run is expected to match: bitwise, close, or not at all."""

    BITWISE = "bitwise"
    CLOSE = "close"
    NOT_EXPECTED = "not expected"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Reason:
    area: str  # "environment" | "code" | "data" | "run"
    text: str
    expectation: Expectation  # the most this reason allows

    def to_dict(self) -> dict[str, str]:
        return {"area": self.area, "text": self.text, "allows": str(self.expectation)}


@dataclass(frozen=True)
class Plan:
    """The prediction and what stands in the way, with the environment difference behind it."""

    expectation: Expectation
    reasons: tuple[Reason, ...]
    blockers: tuple[Reason, ...] = ()  # what makes it impossible to run here
    environment: EnvDiff | None = None

    @property
    def runnable(self) -> bool:
        return not self.blockers

    def to_dict(self) -> dict[str, Any]:
        return {
            "expectation": str(self.expectation),
            "runnable": self.runnable,
            "reasons": [r.to_dict() for r in self.reasons],
            "blockers": [r.to_dict() for r in self.blockers],
            "environment": None if self.environment is None else self.environment.to_dict(),
        }


@dataclass
class Facts:
    """What the plan is made from: gathered by the caller from the stores and this machine."""

    environment: EnvDiff | None  # recorded vs where it will run; None: no environment record
    seeds: Sequence[str] = ()  # names of the seeds the run logged
    gpus: Sequence[str] = ()  # GPUs of the recorded environment
    blockers: list[Reason] = field(default_factory=list)
    notes: list[Reason] = field(default_factory=list)


def _environment_reasons(diff: EnvDiff) -> list[Reason]:
    reasons = []
    for difference in diff.differences:
        if difference.risk is Risk.INFO:
            continue
        text = f"{difference.subject}: {difference.expected} → {difference.actual}"
        text += f" ({difference.reason})"
        if difference.rule in _NUMERIC_RULES or difference.risk is Risk.LOW:
            reasons.append(Reason("environment", text, Expectation.CLOSE))
        else:
            reasons.append(Reason("environment", text, Expectation.NOT_EXPECTED))
    return reasons


def plan_repro(facts: Facts) -> Plan:
    """The prediction for a run, from ``facts``."""
    reasons = list(facts.notes)
    if facts.environment is None:
        reasons.append(
            Reason("environment", "the run recorded no environment", Expectation.NOT_EXPECTED)
        )
    else:
        reasons += _environment_reasons(facts.environment)
    if not facts.seeds:
        text = "no seed was logged: bitwise only if the code seeds every generator it uses"
        reasons.append(Reason("run", text, Expectation.CLOSE))
    if facts.gpus:
        text = f"it ran on {', '.join(facts.gpus)}: GPU kernels need deterministic settings"
        reasons.append(Reason("environment", text, Expectation.CLOSE))
    order = list(Expectation)
    expectation = max(
        (r.expectation for r in reasons), key=order.index, default=Expectation.BITWISE
    )
    ranked = sorted(reasons, key=lambda r: -order.index(r.expectation))
    return Plan(expectation, tuple(ranked), tuple(facts.blockers), facts.environment)
