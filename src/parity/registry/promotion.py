"""The promotion policy: what a version needs before an alias may point at it.

Read from ``[promote.ALIAS]`` tables in parity.toml (the gate's policy file):

```toml
[promote.production]
gates = ["ci"]      # the names of gates whose last verdict recorded on the version passed
approvals = 1       # approvals by users other than the one who registered the version
```

An alias with no table moves freely. What a version has is read from its model's audit trail:
``approve`` entries (one per user) and ``gate`` entries (``parity gate --model NAME/VERSION``
records each verdict; the last one of each gate counts). ``readiness`` is a pure function of the
rule, the version and the trail, so every registry (SQLite, PostgreSQL, a server) decides alike.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.core.errors import UsageError
from parity.core.file_errors import file_error
from parity.core.model import AuditEvent, ModelVersion
from parity.registry.repository import check_alias

# Audit actions this module reads or the registry writes for it.
APPROVE = "approve"
GATE = "gate"
REFUSED = "refused"
PASSED = "passed"
VERDICT_STATUSES = (PASSED, "failed", "error")  # as ``parity.gate.verdict.Status`` has them

_KEYS = {"gates": "a list of gate names", "approvals": "a whole number, 0 or more"}


@dataclass(frozen=True)
class PromotionRule:
    """What a version needs before ``alias`` may point at it."""

    alias: str
    gates: tuple[str, ...] = ()
    approvals: int = 0


@dataclass(frozen=True)
class PromotionPolicy:
    """The ``[promote.*]`` tables of one policy file (none: every alias moves freely)."""

    rules: Mapping[str, PromotionRule] = field(default_factory=dict)
    path: str = "parity.toml"

    def rule(self, alias: str) -> PromotionRule | None:
        rule = self.rules.get(alias)
        return rule if rule is not None and (rule.gates or rule.approvals) else None


@dataclass(frozen=True)
class Readiness:
    """What a version has and lacks for one alias's rule."""

    ref: str  # "bc/3"
    alias: str
    approvals_needed: int  # still missing
    approvers: tuple[str, ...]  # users whose approvals count, sorted
    gates_missing: tuple[str, ...]  # in the rule's order
    last_status: Mapping[str, str] = field(default_factory=dict)  # gate -> its last verdict

    @property
    def ok(self) -> bool:
        return self.approvals_needed == 0 and not self.gates_missing

    def missing(self) -> str:
        """e.g. ``1 more approval and a passing 'ci' gate verdict`` ('' when ready)."""
        parts = []
        if self.approvals_needed:
            plural = "s" if self.approvals_needed > 1 else ""
            parts.append(f"{self.approvals_needed} more approval{plural}")
        for gate in self.gates_missing:
            last = self.last_status.get(gate)
            parts.append(
                f"a passing {gate!r} gate verdict" + (f" (the last one {last})" if last else "")
            )
        if len(parts) < 2:
            return "".join(parts)
        return ", ".join(parts[:-1]) + " and " + parts[-1]

    def sentence(self) -> str:
        """e.g. ``bc/3 needs 1 more approval and a passing 'ci' gate verdict``."""
        return f"{self.ref} needs {self.missing()}" if not self.ok else f"{self.ref} is ready"


def readiness(rule: PromotionRule, version: ModelVersion, trail: Sequence[AuditEvent]) -> Readiness:
    """What ``version`` has and lacks for ``rule``, from its model's audit ``trail``: approvals
    by distinct users other than its registrant, and the last verdict of each gate."""
    approvers: set[str] = set()
    last: dict[str, str] = {}
    for event in trail:
        if event.version != version.version:
            continue
        if event.action == APPROVE and event.actor != version.created_by:
            approvers.add(event.actor)
        elif event.action == GATE and event.after:
            last[str(event.after.get("gate"))] = str(event.after.get("status"))
    return Readiness(
        ref=version.ref,
        alias=rule.alias,
        approvals_needed=max(rule.approvals - len(approvers), 0),
        approvers=tuple(sorted(approvers)),
        gates_missing=tuple(g for g in rule.gates if last.get(g) != PASSED),
        last_status={g: s for g, s in last.items() if g in rule.gates},
    )


def _rule(alias: str, table: object, where: str) -> PromotionRule:
    section = f"[promote.{alias}]"
    try:
        check_alias(alias)
    except UsageError as exc:
        raise UsageError(f"{where}: {section}: {exc.message}", hint=exc.hint) from None
    if not isinstance(table, Mapping):
        raise UsageError(
            f"{where}: {section} must be a table", hint="e.g. [promote.production] approvals = 1"
        )
    unknown = sorted(set(table) - set(_KEYS))
    if unknown:
        raise UsageError(
            f"{where}: {section} has no key {unknown[0]!r}", hint=f"use {', '.join(_KEYS)}"
        )
    gates: Any = table.get("gates", [])
    if not isinstance(gates, list) or not all(isinstance(g, str) and g.strip() for g in gates):
        raise UsageError(
            f"{where}: {section} gates must be {_KEYS['gates']}", hint='e.g. gates = ["ci"]'
        )
    approvals: Any = table.get("approvals", 0)
    if isinstance(approvals, bool) or not isinstance(approvals, int) or approvals < 0:
        raise UsageError(
            f"{where}: {section} approvals must be {_KEYS['approvals']}", hint="e.g. approvals = 1"
        )
    return PromotionRule(alias, tuple(dict.fromkeys(gates)), approvals)


def parse_promotion(document: Mapping[str, Any], where: str = "parity.toml") -> PromotionPolicy:
    """The ``[promote.*]`` tables of a parsed policy file (``where`` names it in errors)."""
    section = document.get("promote")
    if section is None:
        return PromotionPolicy(path=where)
    if not isinstance(section, Mapping):
        raise UsageError(
            f"{where}: promote must be a table of aliases", hint="e.g. [promote.production]"
        )
    rules = {alias: _rule(alias, table, where) for alias, table in section.items()}
    return PromotionPolicy(rules, where)


def load_promotion(path: Path) -> PromotionPolicy:
    """The promotion policy in ``path``; none when the file is not there."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PromotionPolicy(path=str(path))
    except OSError as exc:
        raise file_error(exc, path, "read") from exc
    try:
        document = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", hint="fix the TOML syntax") from exc
    return parse_promotion(document, str(path))
