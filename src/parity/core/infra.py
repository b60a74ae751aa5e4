"""The infrastructure a run was made with: Dockerfiles, manifests, Terraform, as one record.

A run stores the files that ``[lineage] infra`` globs (and ``parity run --infra``) match, each
screened for secrets (``parity.core.secrets``) and kept as a blob; the snapshot record lists them
with their digests and what was redacted or refused. The run links the snapshot as an artifact
of kind ``infra``, so runs compare and lineage find it. Pure: records, and the diff of two.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from parity.core.records import StoredRecord
from parity.core.references import (
    RecordReferences,
    Reference,
    Target,
    as_object,
    list_at,
    referenced,
)

INFRA_KIND = "infra"
INFRA_FORMAT = 1
# The run artifact (path and kind) that points at a run's snapshot record.
INFRA_ARTIFACT = "infra"


@dataclass(frozen=True)
class InfraFile:
    """One stored file: its path under the workspace, the blob of what was stored (after
    redaction) and the names whose values were replaced in it."""

    path: str
    digest: str
    size: int
    redacted: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"path": self.path, "digest": self.digest, "size": self.size}
        if self.redacted:
            entry["redacted"] = list(self.redacted)
        return entry

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> InfraFile:
        return cls(
            str(document["path"]),
            str(document["digest"]),
            int(document["size"]),
            tuple(document.get("redacted", ())),
        )


@dataclass(frozen=True)
class RefusedFile:
    """A matched file that was not stored, and why (a secret as a whole, not text, too big)."""

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "reason": self.reason}


@dataclass(frozen=True)
class InfraSnapshot:
    patterns: tuple[str, ...]
    files: tuple[InfraFile, ...]
    refused: tuple[RefusedFile, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", tuple(sorted(self.files, key=lambda f: f.path)))
        object.__setattr__(self, "refused", tuple(sorted(self.refused, key=lambda f: f.path)))

    def file(self, path: str) -> InfraFile | None:
        return next((f for f in self.files if f.path == path), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "patterns": list(self.patterns),
            "files": [f.to_dict() for f in self.files],
            "refused": [r.to_dict() for r in self.refused],
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> InfraSnapshot:
        return cls(
            tuple(document.get("patterns", ())),
            tuple(InfraFile.from_dict(f) for f in document.get("files", ())),
            tuple(RefusedFile(r["path"], r["reason"]) for r in document.get("refused", ())),
        )

    def to_record(self) -> StoredRecord:
        return StoredRecord(INFRA_KIND, INFRA_FORMAT, self.to_dict())

    @classmethod
    def from_record(cls, record: StoredRecord) -> InfraSnapshot:
        return cls.from_dict(record.body_of(INFRA_KIND, INFRA_FORMAT, "infrastructure record"))


def infra_references(body: Mapping[str, Any]) -> list[Reference]:
    """The blob of every stored file."""
    found: list[Reference] = []
    for index, item in enumerate(list_at(body, "files")):
        field = f"files[{index}].digest"
        found += referenced(Target.OBJECT, as_object(item, field).get("digest"), field)
    return found


INFRA_REFERENCES = RecordReferences(INFRA_KIND, INFRA_FORMAT, infra_references)


def infra_id_of(artifacts: Iterable[Any]) -> str | None:
    """The snapshot record a run's artifacts point at, if it has one (``Artifact`` values)."""
    for artifact in artifacts:
        if artifact.kind == INFRA_KIND and artifact.path == INFRA_ARTIFACT:
            return str(artifact.digest)
    return None


@dataclass(frozen=True)
class InfraChange:
    """One path across two snapshots: added, removed, modified or unchanged."""

    path: str
    status: str
    before: InfraFile | None
    after: InfraFile | None

    @property
    def changed(self) -> bool:
        return self.status != "unchanged"

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "status": self.status,
            "before": None if self.before is None else self.before.digest,
            "after": None if self.after is None else self.after.digest,
        }


def diff_snapshots(
    before: InfraSnapshot | None, after: InfraSnapshot | None
) -> tuple[InfraChange, ...]:
    """Every path either snapshot stored, by path. A value changed only where it was redacted
    on both sides cannot show: the stored copies hold no secret to compare."""
    old = {f.path: f for f in (before.files if before else ())}
    new = {f.path: f for f in (after.files if after else ())}
    changes = []
    for path in sorted(old.keys() | new.keys()):
        a, b = old.get(path), new.get(path)
        if a is None:
            status = "added"
        elif b is None:
            status = "removed"
        else:
            status = "unchanged" if a.digest == b.digest else "modified"
        changes.append(InfraChange(path, status, a, b))
    return tuple(changes)
