"""The reproducibility report: what was re-run, how it compared, the verdict and why.

It is stored (canonical JSON, as a blob and as the ``repro.json`` artifact of the reproducing
run) and printed by ``parity repro``; ``--json`` prints ``to_dict()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from parity.repro.noise import Noise
from parity.repro.outcome import Comparison, Outcome
from parity.repro.plan import Plan
from parity.repro.verdict import Cause, Verdict

REPORT_FORMAT = 1
REPORT_ARTIFACT = "repro.json"


@dataclass(frozen=True)
class ReproReport:
    """What a repro re-ran, what it compared, its verdict and the likely causes, ranked."""

    original_id: str
    reference: str  # what the user named: a run id prefix or a model reference
    plan: Plan
    verdict: Verdict
    causes: tuple[Cause, ...]
    comparisons: tuple[Comparison, ...] = ()
    run_ids: tuple[str, ...] = ()  # the reproducing run first, then further re-runs
    noise: Noise | None = None
    failure: str | None = None  # what stopped a repro that could not run
    notes: tuple[str, ...] = ()
    environment_id: str | None = None  # the environment it re-ran in
    venv: str | None = None
    strict: bool = False
    seconds: dict[str, float] = field(default_factory=dict)  # per step: checkout, run, …

    @property
    def run_id(self) -> str | None:
        """The reproducing run (None when it could not start)."""
        return self.run_ids[0] if self.run_ids else None

    @property
    def ok(self) -> bool:
        return self.verdict.passes(self.strict)

    @property
    def differences(self) -> tuple[Comparison, ...]:
        return tuple(c for c in self.comparisons if c.outcome is not Outcome.IDENTICAL)

    @property
    def overhead_seconds(self) -> float:
        """Parity's own time: everything but building the environment and running the command."""
        own = {k: v for k, v in self.seconds.items() if k not in ("environment", "run", "total")}
        return round(sum(own.values()), 3)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "original": self.original_id,
            "reference": self.reference,
            "verdict": str(self.verdict),
            "ok": self.ok,
            "strict": self.strict,
            "causes": [c.to_dict() for c in self.causes],
            "failure": self.failure,
            "plan": self.plan.to_dict(),
            "comparisons": [c.to_dict() for c in self.comparisons],
            "runs": list(self.run_ids),
            "noise": None if self.noise is None else self.noise.to_dict(),
            "notes": list(self.notes),
            "environment_id": self.environment_id,
            "venv": self.venv,
            "seconds": {k: round(v, 3) for k, v in sorted(self.seconds.items())},
            "overhead_seconds": self.overhead_seconds,
        }
