"""Compare an installed environment with a project's declared lock: missing, extra, different."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from parity.core.environment import Environment
from parity.env.lockfiles.declared import DeclaredLock

# Installers a venv may carry without a lock naming them (python -m venv adds them).
INSTALLER_TOOLS = frozenset({"pip", "setuptools", "wheel"})


@dataclass(frozen=True)
class Drift:
    name: str
    expected: str | None  # None: not declared (extra)
    actual: str | None  # None: not installed (missing)

    @property
    def kind(self) -> str:
        if self.actual is None:
            return "missing"
        if self.expected is None:
            return "extra"
        return "different"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "expected": self.expected,
            "actual": self.actual,
        }


@dataclass(frozen=True)
class LockCheck:
    lock: DeclaredLock
    environment_id: str
    drift: tuple[Drift, ...]
    matched: int

    @property
    def ok(self) -> bool:
        return not self.drift

    def of_kind(self, kind: str) -> tuple[Drift, ...]:
        return tuple(d for d in self.drift if d.kind == kind)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "lock": self.lock.path,
            "format": self.lock.format,
            "environment": self.environment_id,
            "matched": self.matched,
            **{kind: [d.to_dict() for d in self.of_kind(kind)] for kind in _KINDS},
        }


_KINDS = ("missing", "extra", "different")


def check_lock(
    lock: DeclaredLock, environment: Environment, ignore: frozenset[str] = INSTALLER_TOOLS
) -> LockCheck:
    """Every package that is missing, extra, or at another version than ``lock`` declares."""
    installed = {d.name: d.version for d in environment.distributions}
    drift: list[Drift] = []
    matched = 0
    for name, expected in sorted(lock.packages.items()):
        actual = installed.get(name)
        if actual is None:
            if not expected.optional:
                drift.append(Drift(name, expected.describe(), None))
        elif expected.accepts(actual):
            matched += 1
        else:
            drift.append(Drift(name, expected.describe(), actual))
    allowed = set(lock.packages) | lock.project | ignore
    drift += [Drift(n, None, v) for n, v in sorted(installed.items()) if n not in allowed]
    python = environment.interpreter.version
    if lock.python is not None and not lock.python.accepts(python):
        drift.append(Drift("python", lock.python.describe(), python))
    order = {kind: i for i, kind in enumerate(_KINDS)}
    return LockCheck(
        lock, environment.id, tuple(sorted(drift, key=lambda d: (order[d.kind], d.name))), matched
    )
