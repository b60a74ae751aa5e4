"""References: the ids a record names, typed by what they name and where in the record they are.

Every kind of record Parity stores declares, next to its type, one function that lists the ids its
body names (``RecordReferences``). Garbage collection keeps what those name; nothing is found by
pattern matching, so a record kind without a declaration, or in a format newer than its
declaration reads, is refused instead of being taken to name nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from parity.core.errors import UsageError
from parity.core.records import StoredRecord


class Target(StrEnum):
    """What an id names."""

    DATA_VERSION = "data version"  # a data version record (kind ``data``)
    PACK = "pack"  # an object holding chunks of data versions
    CHUNK = "chunk"  # one entry of a pack, found through the chunk index
    OBJECT = "object"  # a blob (an artifact file, an uncommitted diff, a schema) or any record
    ENVIRONMENT = "environment"  # an environment record
    CODE = "code state"  # a code state record
    MODEL = "model record"  # a model record
    PROFILE = "profile"  # a profile record
    RUN = "run"  # a run of the metadata store
    COMMIT = "commit"  # a commit of a version-control repository, outside Parity's stores
    # The digest of bytes that are not an object by themselves (a file of a data version, an
    # installed package's RECORD file): it names nothing to keep, but it is declared all the same.
    CONTENT = "content digest"


@dataclass(frozen=True)
class Reference:
    target: Target
    id: str
    field: str  # where in the record or table it was found: "files[3].digest", "run_data.path"


FindReferences = Callable[[Mapping[str, Any]], list[Reference]]


@dataclass(frozen=True)
class RecordReferences:
    """How to read the references out of one kind of record, up to its newest known format."""

    kind: str
    newest_format: int
    find: FindReferences

    def of(self, record: StoredRecord) -> list[Reference]:
        """The references of ``record``; a newer format or a damaged body raises UsageError."""
        return self.find(record.body_of(self.kind, self.newest_format))


def declaration_of(kind: str, declared: Mapping[str, RecordReferences]) -> RecordReferences:
    """The declaration for ``kind``: a kind nobody declared is refused, never read as naming
    nothing (a newer Parity wrote it, and what it names cannot be known here)."""
    try:
        return declared[kind]
    except KeyError:
        raise UsageError(
            f"this Parity does not know which ids a {kind!r} record references",
            hint="upgrade Parity: pip install -U parity-ml",
        ) from None


def referenced(target: Target, value: object, field: str) -> list[Reference]:
    """``value`` as a reference to a ``target``: none when absent, refused when not an id."""
    if value is None:
        return []
    if not isinstance(value, str):
        raise UsageError(f"damaged record: {field} is {value!r}, not an id")
    return [Reference(target, value, field)]


def list_at(body: Mapping[str, Any], key: str) -> list[Any]:
    """The list at ``body[key]`` (empty when absent); anything else is a damaged record."""
    value = body.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise UsageError(f"damaged record: {key} is {value!r}, not a list")
    return value


def as_object(value: object, field: str) -> Mapping[str, Any]:
    """One object of a record's list; anything else is a damaged record."""
    if not isinstance(value, Mapping):
        raise UsageError(f"damaged record: {field} is {value!r}, not an object")
    return value
