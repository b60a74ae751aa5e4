"""Commit pointers: which data version a path held at a git commit that has no pointer file.

A pointer file committed in git says which version a path holds at that commit; ``data history``
and ``data checkout --rev`` read it from git. History made before Parity (an import from DVC)
has commits but no ``PATH.parity`` in them, and rewriting those commits would change every hash
a team has shared. A commit pointer records the same fact beside git instead: an immutable record
(kind ``data_commit``) naming the path, the commit, the pointer it would have held and where the
version came from, indexed under the path so a path's commit pointers are one query away.

``data history`` lists them with the commits git knows; ``data checkout --rev`` falls back to
them when git has no pointer file at that revision; gc keeps the versions they name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parity.core.errors import NotFoundError, UsageError
from parity.core.records import StoredRecord
from parity.core.references import RecordReferences, Reference, Target, referenced
from parity.data.pointer import Pointer
from parity.store.records import RecordStore

COMMIT_POINTER_KIND = "data_commit"
COMMIT_POINTER_FORMAT = 1


@dataclass(frozen=True)
class CommitPointer:
    """``path`` (relative to the repository root, POSIX) held ``pointer`` at ``commit``."""

    path: str
    commit: str  # the full commit id
    pointer: Pointer
    origin: str  # where the version came from, for people: "dvc md5 f69f5b72…"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "commit": self.commit,
            "pointer": self.pointer.to_dict(),
            "origin": self.origin,
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> CommitPointer:
        try:
            path, commit, origin = str(body["path"]), str(body["commit"]), str(body["origin"])
            pointer = Pointer.from_dict(body["pointer"], f"commit pointer of {path}")
        except KeyError as exc:
            raise UsageError(f"damaged commit pointer: {exc.args[0]} is missing") from exc
        return cls(path, commit, pointer, origin)

    def to_record(self) -> StoredRecord:
        return StoredRecord(COMMIT_POINTER_KIND, COMMIT_POINTER_FORMAT, self.to_dict())

    @classmethod
    def from_record(cls, record: StoredRecord) -> CommitPointer:
        return cls.from_dict(
            record.body_of(COMMIT_POINTER_KIND, COMMIT_POINTER_FORMAT, "commit pointer")
        )


def commit_pointer_references(body: Mapping[str, Any]) -> list[Reference]:
    """The data version the path held, and the commit (outside Parity's stores)."""
    pointer = body.get("pointer")
    version = pointer.get("data_version") if isinstance(pointer, Mapping) else None
    return [
        *referenced(Target.DATA_VERSION, version, "pointer.data_version"),
        *referenced(Target.COMMIT, body.get("commit"), "commit"),
    ]


COMMIT_POINTER_REFERENCES = RecordReferences(
    COMMIT_POINTER_KIND, COMMIT_POINTER_FORMAT, commit_pointer_references
)


def record_commit_pointer(records: RecordStore, found: CommitPointer, created_ms: int) -> bool:
    """Store ``found`` (indexed under its path); False when the very same record was there."""
    record = found.to_record()
    if records.meta.record_kind(record.id) is not None:
        return False
    records.put(record, created_ms, found.path)
    return True


def commit_pointers(records: RecordStore, path: str) -> list[CommitPointer]:
    """Every commit pointer recorded for ``path``, oldest first (unreadable ones skipped: a
    record indexed here whose bytes this object store lacks)."""
    found = []
    for record_id in records.meta.labelled_records(COMMIT_POINTER_KIND, path):
        try:
            found.append(CommitPointer.from_record(records.get(record_id, COMMIT_POINTER_KIND)))
        except NotFoundError:
            continue
    return found


def pointer_at_commit(records: RecordStore, path: str, commit: str) -> Pointer | None:
    """The pointer recorded for ``path`` at ``commit`` (the newest recorded one), or None."""
    matching = [c.pointer for c in commit_pointers(records, path) if c.commit == commit]
    return matching[-1] if matching else None
