"""The gate verdict: named checks, each passed, failed or not evaluable, with ranked findings.

One value every renderer reads (JUnit XML, Markdown, GitHub annotations, GitLab code quality)
and that ``--json`` prints. It is deterministic: checks keep the policy's order, findings are
sorted by severity then text, and nothing in it holds a time, so the same state of a project
gives the same bytes. Exit codes: 0 every check passed, 1 some check failed, 2 none failed but
some could not be evaluated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

VERDICT_FORMAT = 1


class Status(StrEnum):
    """How a check ended: passed, failed, or could not be evaluated (error)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"  # the check could not be evaluated (a model, a file or a run is missing)

    def __str__(self) -> str:
        return self.value


class Severity(StrEnum):
    """How much one finding matters, most first (the risk words of ``env diff``)."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    def __str__(self) -> str:
        return self.value

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """One thing a check found: what, how severe, and the file it is about when there is one."""

    message: str
    severity: Severity = Severity.HIGH
    path: str | None = None  # a file of the repository (annotations and code quality point at it)
    line: int = 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "severity": str(self.severity),
            "path": self.path,
            "line": self.line,
        }


@dataclass(frozen=True)
class CheckResult:
    """One check of a gate: its name and kind, its status, a one-line summary, findings."""

    name: str  # what the policy calls it
    kind: str  # "metric", "env-verify", "check-lock", …
    status: Status
    summary: str  # one line
    findings: tuple[Finding, ...] = ()

    def __post_init__(self) -> None:
        ordered = sorted(self.findings, key=lambda f: (f.severity.rank, f.message, f.path or ""))
        object.__setattr__(self, "findings", tuple(ordered))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "status": str(self.status),
            "summary": self.summary,
            "findings": [f.to_dict() for f in self.findings],
        }


@dataclass(frozen=True)
class GateVerdict:
    """Every check of a gate, in the policy's order; its status and exit code follow."""

    name: str
    checks: tuple[CheckResult, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, name: str, checks: Sequence[CheckResult]) -> GateVerdict:
        return cls(name, tuple(checks))

    def with_status(self, status: Status) -> tuple[CheckResult, ...]:
        return tuple(c for c in self.checks if c.status is status)

    @property
    def status(self) -> Status:
        if self.with_status(Status.FAILED):
            return Status.FAILED
        if self.with_status(Status.ERROR):
            return Status.ERROR
        return Status.PASSED

    @property
    def ok(self) -> bool:
        return self.status is Status.PASSED

    @property
    def exit_code(self) -> int:
        return {Status.PASSED: 0, Status.FAILED: 1, Status.ERROR: 2}[self.status]

    def counts(self) -> dict[str, int]:
        return {str(s): len(self.with_status(s)) for s in Status}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": VERDICT_FORMAT,
            "name": self.name,
            "status": str(self.status),
            "exit_code": self.exit_code,
            "counts": self.counts(),
            "checks": [c.to_dict() for c in self.checks],
        }
