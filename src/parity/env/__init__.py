"""Environment fingerprints: capture one, diff two, verify one against another.

>>> import parity.env
>>> trained = parity.env.capture()                       # this interpreter
>>> serving = parity.env.capture("/srv/venv/bin/python")  # doctest: +SKIP
>>> result = parity.env.verify(trained, serving)          # doctest: +SKIP
>>> result.ok, [d.subject for d in result.blocking]       # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.env.capture import capture

if TYPE_CHECKING:
    from parity.core.env_rules import Difference, EnvDiff, Risk
    from parity.core.environment import Environment
    from parity.env.verification import VerifyResult

__all__ = [
    "Difference",
    "EnvDiff",
    "Environment",
    "Risk",
    "VerifyResult",
    "capture",
    "diff",
    "verify",
]


def __getattr__(name: str) -> Any:
    # The record, the rules (and packaging) load on first use: a capture starts its probe first.
    if name == "Environment":
        from parity.core.environment import (
            Environment,
        )  # lazy: packaging loads after the probe has started, not before

        return Environment
    if name in ("Difference", "EnvDiff", "Risk"):
        from parity.core import (
            env_rules,
        )  # lazy: packaging loads after the probe has started, not before

        return getattr(env_rules, name)
    if name == "VerifyResult":
        from parity.env.verification import (
            VerifyResult,
        )  # lazy: packaging loads after the probe has started, not before

        return VerifyResult
    raise AttributeError(f"module 'parity.env' has no attribute {name!r}")


def diff(
    expected: Environment, actual: Environment, imported: Iterable[str] | None = None
) -> EnvDiff:
    """Every difference between two environments, rated by risk (riskiest first)."""
    from parity.core.env_rules import (
        diff_environments,
    )  # lazy: packaging loads after the probe has started, not before

    return diff_environments(expected, actual, imported)


def verify(
    expected: Environment,
    actual: Environment | None = None,
    *,
    python: str | Path | None = None,
    threshold: Risk | str = "high",
    imported: Iterable[str] | None = None,
    exclude: Iterable[str] = (),
) -> VerifyResult:
    """Is ``actual`` (default: ``python``'s environment, or this one) safe for ``expected``?

    ``exclude`` names packages an export left out on purpose (``env export --exclude``), such
    as your own project the image installs from source: their differences are only info.
    """
    from parity.core.env_rules import (
        Risk,
    )  # lazy: packaging loads after the probe has started, not before
    from parity.env.verification import (
        verify_environment,
    )  # lazy: packaging loads after the probe has started, not before

    level = Risk.parse(threshold) if isinstance(threshold, str) else threshold
    candidate = actual if actual is not None else capture(python)
    return verify_environment(expected, candidate, level, imported, exclude)
