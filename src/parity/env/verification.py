"""Verify: is an environment safe for what was made in another? A result, never an exception."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from packaging.utils import canonicalize_name

from parity.core.env_rules import Difference, EnvDiff, Risk, diff_environments
from parity.core.environment import Environment


@dataclass(frozen=True)
class VerifyResult:
    diff: EnvDiff
    threshold: Risk

    @property
    def blocking(self) -> tuple[Difference, ...]:
        return self.diff.at_or_above(self.threshold)

    @property
    def ok(self) -> bool:
        return not self.blocking

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "threshold": str(self.threshold),
            "blocking": len(self.blocking),
            **self.diff.to_dict(),
        }


def verify_environment(
    expected: Environment,
    actual: Environment,
    threshold: Risk = Risk.HIGH,
    imported: Iterable[str] | None = None,
    excluded: Iterable[str] = (),
) -> VerifyResult:
    """Compare and judge: ``ok`` when nothing at or above ``threshold`` differs.

    ``excluded`` names packages an export left out on purpose (any spelling): they never block.
    """
    names = frozenset(canonicalize_name(name) for name in excluded)
    return VerifyResult(diff_environments(expected, actual, imported, names), threshold)
