"""Deployments as values: what an export wrote for a model version, and what runs where.

An *export* (``parity deploy export``) is an immutable record: the model version it is for, the
ids its manifests carry, the target, and the digest of every file written, so the manifests
themselves are in the model version's lineage. A *deployment* is a row of the metadata store:
which model version runs at a named place, in which image, since when, recorded by whom.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parity.core.errors import UsageError
from parity.core.records import StoredRecord
from parity.core.references import (
    RecordReferences,
    Reference,
    Target,
    as_object,
    list_at,
    referenced,
)

EXPORT_KIND = "deploy_export"
EXPORT_FORMAT = 1
TARGETS = ("kubernetes", "kserve", "compose")
_IMAGE = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9._\-/]*(?::[0-9]+/[a-z0-9._\-/]+)?)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
_PLACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:/\-]{0,199}$")


@dataclass(frozen=True)
class ImageReference:
    """A container image as a registry names it: ``NAME[:TAG][@sha256:DIGEST]``."""

    name: str
    tag: str | None = None
    digest: str | None = None

    @classmethod
    def parse(cls, text: str) -> ImageReference:
        match = _IMAGE.match(text.strip())
        if match is None:
            raise UsageError(
                f"cannot read {text!r} as an image reference",
                hint="give NAME[:TAG][@sha256:<64 hex digits>], e.g. registry.example/bc:1",
            )
        return cls(match["name"], match["tag"], match["digest"])

    def __str__(self) -> str:
        tag = f":{self.tag}" if self.tag else ""
        return self.name + tag + (f"@{self.digest}" if self.digest else "")


def check_place(place: str) -> str:
    """A deployment's place is a short name (``prod-eu``, ``k8s/eu-west-1/churn``)."""
    if not _PLACE.match(place):
        raise UsageError(
            f"{place!r} cannot name where a model runs",
            hint="use letters, digits and . _ - : /, at most 200, e.g. prod-eu",
        )
    return place


@dataclass(frozen=True)
class ExportedFile:
    path: str  # relative to the export folder
    digest: str
    size: int

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "digest": self.digest, "size": self.size}


@dataclass(frozen=True)
class DeployExport:
    """What ``parity deploy export`` wrote for one model version (the record of kind
    ``deploy_export``): no clock in it, so the same export twice is the same record."""

    name: str
    version: int
    model_id: str
    target: str
    image: str
    files: tuple[ExportedFile, ...]
    environment_id: str | None = None
    run_id: str | None = None
    data_versions: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "model_id": self.model_id,
            "target": self.target,
            "image": self.image,
            "files": [f.to_dict() for f in sorted(self.files, key=lambda f: f.path)],
            "environment_id": self.environment_id,
            "run_id": self.run_id,
            "data_versions": list(self.data_versions),
        }

    @classmethod
    def from_dict(cls, document: Mapping[str, Any]) -> DeployExport:
        return cls(
            name=document["name"],
            version=int(document["version"]),
            model_id=document["model_id"],
            target=document["target"],
            image=document["image"],
            files=tuple(ExportedFile(**f) for f in document.get("files", ())),
            environment_id=document.get("environment_id"),
            run_id=document.get("run_id"),
            data_versions=tuple(document.get("data_versions", ())),
        )

    def to_record(self) -> StoredRecord:
        return StoredRecord(EXPORT_KIND, EXPORT_FORMAT, self.to_dict())

    @classmethod
    def from_record(cls, record: StoredRecord) -> DeployExport:
        return cls.from_dict(record.body_of(EXPORT_KIND, EXPORT_FORMAT, "deploy export record"))


def export_references(body: Mapping[str, Any]) -> list[Reference]:
    """The model, its environment, run and training data, and the blob of every file."""
    found = [
        *referenced(Target.MODEL, body.get("model_id"), "model_id"),
        *referenced(Target.ENVIRONMENT, body.get("environment_id"), "environment_id"),
        *referenced(Target.RUN, body.get("run_id"), "run_id"),
    ]
    for index, version in enumerate(list_at(body, "data_versions")):
        found += referenced(Target.DATA_VERSION, version, f"data_versions[{index}]")
    for index, item in enumerate(list_at(body, "files")):
        where = f"files[{index}].digest"
        found += referenced(Target.OBJECT, as_object(item, where).get("digest"), where)
    return found


EXPORT_REFERENCES = RecordReferences(EXPORT_KIND, EXPORT_FORMAT, export_references)


@dataclass(frozen=True)
class Deployment:
    """One model version running at a place, as recorded (``deploy record`` or ``serve``)."""

    place: str
    name: str
    version: int
    model_id: str
    image: str | None
    recorded_ms: int
    recorded_by: str
    source: str  # "record" (CI after a rollout) | "serve" (a server on start)
    environment_id: str | None = None
    note: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}/{self.version}"

    @property
    def image_digest(self) -> str | None:
        if not self.image:
            return None
        try:
            return ImageReference.parse(self.image).digest
        except UsageError:
            return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "where": self.place,
            "model": self.ref,
            "name": self.name,
            "version": self.version,
            "model_id": self.model_id,
            "image": self.image,
            "image_digest": self.image_digest,
            "since_ms": self.recorded_ms,
            "recorded_by": self.recorded_by,
            "source": self.source,
            "environment_id": self.environment_id,
            "note": self.note,
        }
