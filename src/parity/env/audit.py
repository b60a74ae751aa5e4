"""Audit an environment offline: which of its packages an OSV advisory names, at its version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parity.core.environment import Environment
from parity.env.advisories import AdvisorySet


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory: str
    aliases: tuple[str, ...]
    summary: str
    fixed: tuple[str, ...]  # versions that fix it, when the advisory says
    severity: str = "unknown"  # low, moderate, high, critical, as the advisory states it

    def to_dict(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "version": self.version,
            "advisory": self.advisory,
            "aliases": list(self.aliases),
            "summary": self.summary,
            "fixed": list(self.fixed),
            "severity": self.severity,
        }


@dataclass(frozen=True)
class AuditResult:
    environment_id: str
    findings: tuple[Finding, ...]
    packages: int

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def vulnerable_packages(self) -> tuple[str, ...]:
        return tuple(sorted({f.package for f in self.findings}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "environment": self.environment_id,
            "packages": self.packages,
            "findings": [f.to_dict() for f in self.findings],
        }


def audit_environment(environment: Environment, advisories: AdvisorySet) -> AuditResult:
    findings = [
        Finding(
            dist.name,
            dist.version,
            affected.advisory.id,
            affected.advisory.aliases,
            affected.advisory.summary,
            affected.fixed,
            affected.advisory.severity,
        )
        for dist in environment.distributions
        for affected in advisories.affecting(dist.name, dist.version)
    ]
    findings.sort(key=lambda f: (f.package, f.advisory))
    return AuditResult(environment.id, tuple(findings), len(environment.distributions))
