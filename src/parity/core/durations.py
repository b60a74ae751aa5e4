"""Lengths of time as people type them: ``90d``, ``12h``, ``30m``, ``2w``."""

from __future__ import annotations

import re

from parity.core.errors import UsageError

_UNITS_MS = {"s": 1_000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
_DURATION = re.compile(r"^\s*(\d{1,6})\s*([smhdw])\s*$")
# The longest a token may be asked to live: ten years is "never" said out loud.
LONGEST_MS = 3_650 * _UNITS_MS["d"]


def parse_duration(text: str) -> int:
    """``text`` (a whole number and one unit of s, m, h, d, w) in milliseconds."""
    found = _DURATION.match(text)
    if found is None:
        raise UsageError(
            f"cannot read the duration {text!r}",
            hint="write a number and a unit: 30m, 12h, 90d or 2w",
        )
    count, unit = int(found.group(1)), found.group(2)
    milliseconds = count * _UNITS_MS[unit]
    if milliseconds <= 0 or milliseconds > LONGEST_MS:
        raise UsageError(f"the duration {text!r} is out of range", hint="give between 1s and 3650d")
    return milliseconds
