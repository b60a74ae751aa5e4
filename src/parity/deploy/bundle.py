"""A model version as a folder an image build takes in: its objects, and what the registry says.

``write_bundle`` copies, from a workspace's stores, the model record, every file it lists and the
environment record into ``FOLDER/objects`` (the layout and blob encoding of a local object
store, each blob verified as it is copied), and writes ``FOLDER/bundle.json`` with the version's
registry entry. ``unpack_bundle`` is the build step: it refuses a bundle whose model is not the
one the Dockerfile names, copies the objects into the image's workspace (verified again against
their digests), re-hashes every model file against the model record, and registers the version
under its own number (``Registry.adopt``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from parity.core.environment import ENV_KIND
from parity.core.errors import CheckFailed, ConflictError, NotFoundError, UsageError
from parity.core.model import MODEL_KIND, ModelRecord, ModelVersion
from parity.data.transfer import transfer
from parity.registry.loading import check_model_files, read_model_record
from parity.registry.versions import Actor, Registry
from parity.store.objects import open_object_store
from parity.store.objects.local import atomic_write_bytes
from parity.store.records import RecordStore

BUNDLE_FORMAT = 1
MANIFEST = "bundle.json"
OBJECTS = "objects"


@dataclass(frozen=True)
class Bundle:
    version: ModelVersion
    environment_id: str | None
    records: tuple[tuple[str, str], ...]  # (id, kind) of the records, to index them
    files: tuple[str, ...]  # the blobs of the model's files

    def to_dict(self) -> dict[str, Any]:
        version = self.version.to_dict()
        del version["aliases"], version["locked"]  # registry state of the source, not the image's
        return {
            "format": BUNDLE_FORMAT,
            "model": version,
            "environment_id": self.environment_id,
            "records": [list(r) for r in self.records],
            "files": list(self.files),
        }

    @classmethod
    def from_dict(cls, document: dict[str, Any]) -> Bundle:
        if document.get("format", 0) > BUNDLE_FORMAT:
            raise UsageError(
                f"{MANIFEST} has format {document['format']}, newer than this Parity understands",
                hint="upgrade Parity in the image: pip install -U parity-ml",
            )
        model = document["model"]
        version = ModelVersion(
            name=model["name"],
            version=int(model["version"]),
            model_id=model["model_id"],
            run_id=model.get("run_id"),
            created_ms=int(model["created_ms"]),
            created_by=model["created_by"],
            locked=False,
            description=model.get("description"),
        )
        records = tuple((str(i), str(k)) for i, k in document.get("records", ()))
        return cls(version, document.get("environment_id"), records, tuple(document["files"]))


def write_bundle(
    records: RecordStore, version: ModelVersion, record: ModelRecord, folder: Path
) -> Bundle:
    """Copy the model behind ``version`` into ``folder`` (files first, records last)."""
    indexed = [(version.model_id, MODEL_KIND)]
    if record.environment_id is not None:
        indexed.append((record.environment_id, ENV_KIND))
    files = tuple(sorted({f.digest for f in record.files}))
    bundle = Bundle(version, record.environment_id, tuple(indexed), files)
    target = open_object_store(str((folder / OBJECTS).resolve()))
    result = transfer(records.objects, target, [files, [i for i, _ in indexed]])
    if not result.ok:
        failed = ", ".join(f"{d[:12]} ({why})" for d, why in sorted(result.failed.items()))
        raise CheckFailed(f"cannot copy {version.ref} into {folder}: {failed}")
    text = json.dumps(bundle.to_dict(), indent=2, sort_keys=True) + "\n"
    atomic_write_bytes(folder / MANIFEST, text.encode())
    return bundle


def read_bundle(folder: Path) -> Bundle:
    try:
        document = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise NotFoundError(
            f"{folder} holds no {MANIFEST}", hint="name the model folder parity deploy export wrote"
        ) from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read {folder / MANIFEST}: {exc}") from exc
    return Bundle.from_dict(document)


def unpack_bundle(
    folder: Path,
    records: RecordStore,
    registry: Registry,
    actor: Actor,
    created_ms: int,
    expected_model: str,
) -> ModelVersion:
    """Take the bundle at ``folder`` into these stores: ``expected_model`` (the model id the
    Dockerfile names) must be the bundle's, and every object must match its digest."""
    bundle = read_bundle(folder)
    if bundle.version.model_id != expected_model:
        raise ConflictError(
            f"the bundle in {folder} holds model {bundle.version.model_id[:12]} "
            f"({bundle.version.ref}), not {expected_model[:12]}",
            hint="export again: the build context was changed after parity deploy export",
        )
    source = open_object_store(str((folder / OBJECTS).resolve()))
    result = transfer(source, records.objects, [bundle.files, [i for i, _ in bundle.records]])
    if not result.ok:
        failed = ", ".join(f"{d[:12]} ({why})" for d, why in sorted(result.failed.items()))
        raise CheckFailed(f"the bundle in {folder} is damaged: {failed}")
    label = bundle.version.ref
    records.meta.index_records([(i, kind, created_ms, label) for i, kind in bundle.records])
    record = read_model_record(records, expected_model)
    problems = check_model_files(records, record)
    if problems:
        listed = "; ".join(f"{p.path}: {p.problem}" for p in problems)
        raise CheckFailed(f"{bundle.version.ref}'s files do not match its record: {listed}")
    return registry.adopt(bundle.version, actor, reason=f"unpacked from {folder}")
