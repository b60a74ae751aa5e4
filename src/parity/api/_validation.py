"""Checking a table against a schema, the verdict recorded on its data version."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from parity.core.errors import NotFoundError, UsageError
from parity.data.pointer import pointer_path, read_pointer
from parity.data.validate import (
    VALIDATION_KIND,
    Validation,
    load_schema,
    read_table,
    validate_frame,
)
from parity.data.versions import load_version
from parity.store.objects.store import hash_file
from parity.workspace import Workspace, now_ms


@dataclass(frozen=True)
class ValidationOutcome:
    validation: Validation
    record_id: str
    versioned: bool  # False: the file is not (or no longer) what a pointer says; keyed by content


def validate_table(workspace: Workspace, path: Path, schema_path: Path) -> ValidationOutcome:
    """Validate the table at ``path`` and store the validation record, labelled by data version."""
    if not path.is_file():
        raise UsageError(f"{path} is not a file", hint="give a CSV or Parquet table")
    schema = load_schema(schema_path)
    # The schema is kept too, so the digest in the record always leads back to its text.
    schema_digest = workspace.objects.put_file(schema_path)
    data_version, versioned = data_version_of(workspace, path)
    validation = validate_frame(read_table(path), schema, data_version, schema_digest)
    record_id = workspace.records.put(validation.to_record(), now_ms(), label=data_version)
    return ValidationOutcome(validation, record_id, versioned)


def data_version_of(workspace: Workspace, path: Path) -> tuple[str, bool]:
    """The data version ``path`` belongs to, when a pointer (its own or a folder's) vouches for
    its current content; else the content digest of the file, and False."""
    path = path.resolve()
    content = hash_file(path)
    for folder in (path, *path.parents):
        if folder == workspace.root or workspace.root not in folder.parents:
            break
        pointer_file = pointer_path(folder)
        if not pointer_file.is_file():
            continue
        pointer = read_pointer(pointer_file)
        try:
            version = load_version(workspace.objects, pointer.data_version)
        except NotFoundError:
            return content, False  # the manifest is not here: cannot tell what was versioned
        if version.kind == "file":
            entries = list(version.files)
        else:
            entries = [e for e in version.files if e.path == path.relative_to(folder).as_posix()]
        if any(entry.digest == content for entry in entries):
            return pointer.data_version, True
        return content, False
    return content, False


def validations_of(workspace: Workspace, data_version: str) -> list[tuple[str, Validation]]:
    """Every validation recorded for ``data_version``, oldest first, with its record id."""
    ids = workspace.records.meta.labelled_records(VALIDATION_KIND, data_version)
    return [(i, Validation.from_record(workspace.records.get(i, VALIDATION_KIND))) for i in ids]
