"""The gate policy: which checks a project requires, read from ``[gate]`` in parity.toml.

```toml
[gate]
name = "release"

[[gate.checks]]
kind = "metric"
model = "churn@candidate"
metric = "auc"
min = 0.8

[[gate.checks]]
name = "no worse than production"
kind = "metric"
model = "churn@candidate"
metric = "auc"
baseline = "churn@production"
max_drop = 0.01
```

Each check has a ``kind`` (``KINDS`` lists them with the options each takes), an optional
``name`` (default: made from its kind and subject) and its options; an unknown kind or option is
refused, so a typo cannot silently drop a check. Paths are relative to the policy file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.core.errors import NotFoundError, UsageError

POLICY_FILE = "parity.toml"

# kind -> (required options, optional options)
KINDS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "env-verify": (frozenset({"model"}), frozenset({"python", "threshold"})),
    "check-lock": (frozenset(), frozenset({"lock", "python", "ignore"})),
    "data-validate": (frozenset({"path", "schema"}), frozenset()),
    "drift": (frozenset({"model"}), frozenset({"since", "reference", "min_rows"})),
    "audit": (
        frozenset({"advisories"}),
        frozenset({"environment", "model", "severity", "unknown"}),
    ),
    "metric": (
        frozenset({"metric"}),
        frozenset(
            {
                "model",
                "run",
                "min",
                "max",
                "baseline",
                "max_drop",
                "max_drop_rel",
                "max_rise",
                "missing_baseline",
            }
        ),
    ),
    "repro": (frozenset(), frozenset({"model", "run", "require"})),
    "lineage": (frozenset({"model"}), frozenset({"allow_dirty"})),
}
# Options that name a file: read relative to the policy's folder.
PATH_OPTIONS = frozenset({"lock", "path", "schema", "advisories"})


@dataclass(frozen=True)
class PolicyCheck:
    """One ``[[gate.checks]]`` entry: its name, kind and options."""

    name: str
    kind: str
    options: Mapping[str, Any]

    def option(self, key: str, default: Any = None) -> Any:
        return self.options.get(key, default)


@dataclass(frozen=True)
class Policy:
    """A gate's name and its checks, in order."""

    name: str
    checks: tuple[PolicyCheck, ...]
    path: Path | None = None  # the file it came from


def _default_name(kind: str, options: Mapping[str, Any]) -> str:
    subject = options.get("metric") or options.get("model") or options.get("run")
    subject = subject or options.get("path") or options.get("lock") or options.get("environment")
    return f"{kind} {subject}" if subject else kind


def read_check(entry: Mapping[str, Any], where: str, base: Path | None) -> PolicyCheck:
    kind = str(entry.get("kind"))
    if kind not in KINDS:
        raise UsageError(
            f"{where}: unknown check kind {kind!r}", hint=f"use one of {', '.join(sorted(KINDS))}"
        )
    required, optional = KINDS[kind]
    options = {k: v for k, v in entry.items() if k not in ("kind", "name")}
    unknown = sorted(set(options) - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise UsageError(f"{where}: a {kind} check has no option {unknown[0]!r}", hint=allowed)
    missing = sorted(required - set(options))
    if missing:
        raise UsageError(f"{where}: a {kind} check needs {missing[0]!r}")
    if kind in ("metric", "repro") and not ({"model", "run"} & set(options)):
        raise UsageError(f"{where}: a {kind} check needs 'model' or 'run'")
    if base is not None:
        for key in PATH_OPTIONS & set(options):
            options[key] = str(base / str(options[key]))
    name = str(entry.get("name") or _default_name(kind, options))
    return PolicyCheck(name, kind, options)


def parse_policy(document: Mapping[str, Any], path: Path | None = None) -> Policy:
    """The policy in a parsed parity.toml (``document``), paths relative to ``path``'s folder."""
    where = str(path or POLICY_FILE)
    gate = document.get("gate")
    if not isinstance(gate, Mapping):
        raise UsageError(f"{where} has no [gate] table", hint="add [[gate.checks]] entries")
    entries = gate.get("checks") or []
    if not isinstance(entries, list) or not entries:
        raise UsageError(f"{where} lists no [[gate.checks]]", hint="a gate needs a check")
    base = path.parent if path is not None else None
    checks = tuple(
        read_check(entry, f"{where}: check {index + 1}", base)
        for index, entry in enumerate(entries)
    )
    names = [c.name for c in checks]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise UsageError(f"{where}: two checks are named {doubled[0]!r}", hint="name them apart")
    return Policy(str(gate.get("name") or "parity"), checks, path)


def load_policy(path: Path) -> Policy:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise NotFoundError(
            f"no gate policy at {path}", hint="write [[gate.checks]] into parity.toml"
        ) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}", hint="fix the TOML syntax") from exc
    return parse_policy(document, path)
