"""The reference profile of a data version: made when a run reads a table, kept for drift checks.

Profiles need numpy and pandas, which come with the ``monitor`` extra. This module imports neither
up front, so a base install still records a run's inputs; only the profile is then refused, with
a UsageError naming the extra (a run turns that into a one-line warning and carries on).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from parity.monitor.repository import Monitoring
    from parity.store.records import RecordStore


def store_profile(
    records: RecordStore,
    monitoring: Monitoring,
    path: Path,
    data_version: str | None,
    now_ms: int,
) -> str:
    """Profile a CSV/Parquet table, store the profile and (for a data version) remember it.

    Raises UsageError, before anything is stored, when the table cannot be profiled here.
    """
    from parity.monitor.profile import profile_frame, read_table  # lazy: the monitor extra

    profile = profile_frame(read_table(path), data_version)
    profile_id = records.put(profile.to_record(), now_ms, label=data_version)
    if data_version is not None:
        monitoring.remember_profile(data_version, profile_id, now_ms)
    return profile_id
