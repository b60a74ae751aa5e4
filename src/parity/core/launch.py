"""How a run was started, so it can be started again: working folder, numerics variables, seeds.

The command line itself is the run's ``command`` (``parity run -- CMD`` records CMD; a script
that calls ``parity.start_run`` records its interpreter and ``sys.argv``). What this adds is
the folder it ran in, relative to the root of its git repository so that a checkout elsewhere
can run it in the same place, and the allow-listed environment variables that change numerics
(``parity.core.environment.NUMERICS_VARIABLES``); no other variable is ever read into it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from parity.core.errors import UsageError

LAUNCH_FORMAT = 1
# Seeds are named like metric keys; their values are kept as text (any int, or a library's
# own seed object printed).
MAX_SEED_LENGTH = 200


@dataclass(frozen=True)
class Launch:
    """The folder a run started in and the numerics variables it saw."""

    cwd: str  # POSIX, relative to the git root ("." at the root); absolute outside a repository
    in_repository: bool
    variables: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": LAUNCH_FORMAT,
            "cwd": self.cwd,
            "in_repository": self.in_repository,
            "variables": dict(sorted(self.variables.items())),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> Launch:
        if int(document.get("format", 1)) > LAUNCH_FORMAT:
            raise UsageError(
                "a run's launch was recorded by a newer Parity",
                hint="upgrade Parity: pip install -U parity-ml",
            )
        return cls(
            cwd=str(document.get("cwd", ".")),
            in_repository=bool(document.get("in_repository", False)),
            variables={str(k): str(v) for k, v in (document.get("variables") or {}).items()},
        )


def seed_text(value: object) -> str:
    """A seed as the text it is kept as: an int's digits, anything else as it prints."""
    text = str(int(value)) if isinstance(value, bool | int) else str(value)
    if not text or len(text) > MAX_SEED_LENGTH:
        raise UsageError(
            f"seed {text[:40]!r} is empty or longer than {MAX_SEED_LENGTH} characters",
            hint="log the integer the generator was seeded with",
        )
    return text
