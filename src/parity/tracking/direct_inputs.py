"""A run's input data versions read with the stdlib ``sqlite3``: what a model server tags its
metadata, metrics and prediction log with, looked up without SQLAlchemy's import.

The answer is the one ``RunStore`` gives through a run's view (its ``inputs``, by path, the
versions that are set): the same table, the same order.
"""

from __future__ import annotations

import sqlite3


def input_data_versions(connection: sqlite3.Connection, run_id: str) -> tuple[str, ...]:
    """The data versions ``run_id`` read, ordered by path; none for a run this store lacks."""
    rows = connection.execute(
        "SELECT data_version FROM run_data WHERE run_id = ? AND direction = 'input' ORDER BY path",
        (run_id,),
    )
    return tuple(str(version) for (version,) in rows if version)
