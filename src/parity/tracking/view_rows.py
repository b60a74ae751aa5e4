"""A run's stored rows made into a RunView, and its code state read from its record.

Both readers of runs build their views here: the SQLAlchemy one (``views``) and the stdlib
``sqlite3`` one of short commands (``reads_direct``), so the two cannot drift apart. Rows come
in as mappings of column name to value, whichever library read them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from parity.core.errors import NotFoundError
from parity.core.launch import Launch
from parity.core.records import StoredRecord
from parity.core.run import CODE_KIND, Artifact, CodeState, DataLink, RunStatus, RunView

CodeLoader = Callable[[str], Mapping[str, Any]]
# The columns of ``runs`` a view shows, as both readers select them.
RUN_COLUMNS = (
    "run_id",
    "experiment",
    "name",
    "status",
    "start_ms",
    "end_ms",
    "user",
    "host",
    "command",
    "code_id",
    "environment_id",
    "parent_id",
    "exit_code",
    "deleted_ms",
)


def empty_part(row: Mapping[Any, Any]) -> dict[str, Any]:
    """What is collected for one run while its other tables are read."""
    return {
        "row": {column: row[column] for column in RUN_COLUMNS},
        "params": {},
        "tags": {},
        "metrics": {},
        "input": [],
        "output": [],
        "artifacts": [],
        "seeds": {},
        "launch": None,
        "reproduces": None,
    }


def add_data(part: dict[str, Any], direction: str, path: str, data_version: str) -> None:
    part[direction].append(DataLink(path, data_version))


def add_artifact(part: dict[str, Any], row: Mapping[Any, Any]) -> None:
    part["artifacts"].append(Artifact(row["path"], row["kind"], row["digest"], row["size"]))


def add_launch(part: dict[str, Any], document: str) -> None:
    part["launch"] = Launch.from_dict(json.loads(document))


def assemble(part: Mapping[str, Any], code_of: CodeLoader) -> RunView:
    row = part["row"]
    code = code_of(row["code_id"]) if row["code_id"] else None
    if code is not None and code.get("missing"):
        # The record lives in the object store of whoever ran it: name them.
        code = {**code, "captured_by": f"{row['user']} on {row['host'] or 'an unknown host'}"}
    return RunView(
        id=row["run_id"],
        experiment=row["experiment"],
        name=row["name"],
        status=RunStatus(row["status"]),
        start_ms=row["start_ms"],
        end_ms=row["end_ms"],
        user=row["user"],
        host=row["host"],
        command=tuple(json.loads(row["command"])),
        params=dict(sorted(part["params"].items())),
        metrics=dict(sorted(part["metrics"].items())),
        tags=dict(sorted(part["tags"].items())),
        code=code,
        environment_id=row["environment_id"],
        inputs=tuple(part["input"]),
        outputs=tuple(part["output"]),
        artifacts=tuple(part["artifacts"]),
        parent_id=row["parent_id"],
        exit_code=row["exit_code"],
        deleted=row["deleted_ms"] is not None,
        launch=part["launch"],
        seeds=dict(sorted(part["seeds"].items())),
        reproduces=part["reproduces"],
    )


def load_code(
    code_id: str, get_record: Callable[[str], StoredRecord] | None, looked_in: str
) -> Mapping[str, Any]:
    """The code state ``code_id`` names, from the object store ``get_record`` reads (``looked_in``
    is its URL); only the id without one, and a marker saying where it was looked for when the
    store does not hold it (a teammate's run, stored in their object store)."""
    if get_record is None:
        return {"id": code_id}
    try:
        record = get_record(code_id)
        if record.kind != CODE_KIND:
            raise NotFoundError(f"{code_id[:12]} is a {record.kind} record, not a code record")
        state = CodeState.from_record(record)
    except NotFoundError:
        return {"id": code_id, "missing": True, "looked_in": looked_in}
    return {"id": code_id, **state.to_dict()}


def code_document(code_id: str, document: str) -> dict[str, Any]:
    """A code state's row (its record's JSON, ``code_index``) as ``RunView.code`` holds it."""
    return {"id": code_id, **CodeState.from_dict(json.loads(document)).to_dict()}
