"""Load a model safely: fetch every file, verify each against its digest, check the environment,
and only then let the flavor (which may unpickle) read them."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from parity.core.errors import CorruptObject, NotFoundError
from parity.core.model import MODEL_KIND, ModelRecord
from parity.core.paths import is_contained
from parity.registry.flavors import flavor_named
from parity.store.records import RecordStore


def safe_relative(path: str) -> PurePosixPath:
    """An artifact path that stays inside its folder, or CorruptObject for one that escapes."""
    if not is_contained(path):
        raise CorruptObject("-", f"artifact path {path!r} escapes the model folder")
    return PurePosixPath(path)


def read_model_record(records: RecordStore, model_id: str) -> ModelRecord:
    return ModelRecord.from_record(records.get(model_id, kind=MODEL_KIND))


def fetch_model_files(records: RecordStore, record: ModelRecord, directory: Path) -> None:
    """Write every file of ``record`` into ``directory``, each verified against its digest and
    never written past the size the record states (a few KB of zstd can expand to gigabytes)."""
    for artifact in record.files:
        records.objects.get_to_file(
            artifact.digest, directory / safe_relative(artifact.path), artifact.size
        )


@dataclass(frozen=True)
class FileProblem:
    """A model file that does not hold what its record says, and why."""

    path: str
    digest: str
    problem: str

    def to_dict(self) -> dict[str, str]:
        return {"path": self.path, "digest": self.digest, "problem": self.problem}


def check_model_files(records: RecordStore, record: ModelRecord) -> list[FileProblem]:
    """Re-hash every file of ``record`` in the object store (nothing is written or loaded);
    the files that are missing, corrupt or larger than recorded."""
    problems = []
    for artifact in record.files:
        try:
            records.objects.verify(artifact.digest, artifact.size)
        except (CorruptObject, NotFoundError) as exc:
            problems.append(FileProblem(artifact.path, artifact.digest, exc.message))
    return problems


def load_model_record(
    records: RecordStore,
    model_id: str,
    check_environment: Callable[[ModelRecord], None] | None = None,
    allow_unrestricted_pickle: bool = False,
) -> Any:
    """The model object behind ``model_id``.

    Raises CorruptObject (before anything is deserialised) when a file does not match its digest,
    and whatever ``check_environment`` raises when this environment is not safe for the model.
    """
    record = read_model_record(records, model_id)
    with tempfile.TemporaryDirectory(prefix="parity-load-") as tmp:
        directory = Path(tmp)
        fetch_model_files(records, record, directory)
        if check_environment is not None:
            check_environment(record)
        return flavor_named(record.flavor).load(
            directory, record.loader, allow_unrestricted_pickle=allow_unrestricted_pickle
        )
