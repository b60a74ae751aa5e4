"""Code states in the metadata store: a row per code state record, so reading runs asks the
database alone (in team mode the object store is S3: a GET per run, and boto3 to load).

The record in the object store stays the source of truth and a row is its copy, written in the
transaction that names it on a run (``RunStore.create``, ``set_sources``). The row's content
comes from this process's memory when it stored the state itself (``store_code_state`` keeps
it); a server, whose clients store their records, reads each state's record once. A run
recorded before the table existed is read from the object store once and copied then.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select

from parity.core.run import CodeState
from parity.store.meta.store import insert_ignoring_duplicates
from parity.store.meta.tracking_tables import code_states

# Ids per IN list: well under SQLite's and PostgreSQL's parameter limits.
IN_CHUNK = 200


def code_row(code_id: str, state: CodeState) -> dict[str, Any]:
    """The row of the code state ``code_id`` (the record id of ``state``)."""
    return {
        "code_id": code_id,
        "commit": state.commit,
        "branch": state.branch,
        "dirty": state.dirty,
        "diff_digest": state.diff_digest,
        "document": json.dumps(state.to_dict(), sort_keys=True, separators=(",", ":")),
    }


def write_rows(connection: Connection, rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert rows not there yet (a row never changes: its record is immutable)."""
    insert_ignoring_duplicates(connection, code_states, list(rows))


def has_row(connection: Connection, code_id: str) -> bool:
    query = select(code_states.c.code_id).where(code_states.c.code_id == code_id)
    return connection.execute(query).first() is not None


def read_documents(connection: Connection, code_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The code states among ``code_ids`` that have a row, as ``{"id": …, **state.to_dict()}``
    (what ``RunView.code`` holds), in one query per ``IN_CHUNK`` ids."""
    wanted = sorted(set(code_ids))
    found: dict[str, dict[str, Any]] = {}
    columns = code_states.c
    for start in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[start : start + IN_CHUNK]
        query = select(columns.code_id, columns.document).where(columns.code_id.in_(chunk))
        for code_id, document in connection.execute(query):
            state = CodeState.from_dict(json.loads(document))
            found[str(code_id)] = {"id": str(code_id), **state.to_dict()}
    return found
