"""The ``monitor`` extra: numpy and pandas, which drift profiles need and a base install lacks."""

from __future__ import annotations

from parity.core.errors import UsageError

MONITOR_EXTRA = "parity-ml[monitor]"


def monitor_extra_missing(error: ImportError) -> UsageError:
    """The error for a drift module that cannot import numpy or pandas."""
    missing = error.name or "numpy and pandas"
    return UsageError(
        f"drift profiles need {missing}, which is not installed",
        hint=f"pip install '{MONITOR_EXTRA}'",
    )
