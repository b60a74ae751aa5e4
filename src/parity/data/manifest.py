"""The data version record (kind ``data``): a self-contained manifest of a file or a folder.

For every file: its relative path (POSIX, unicode kept), size, mode (0o755 or 0o644: only the
executable bit is versioned), the BLAKE3 digest of its content and where its content lives, as
chunks ``[chunk digest, pack number, offset, stored length, size]``. Pack numbers index the
record's ``packs`` list, so a pack's 64-character digest is written once, not once per file.
A stored length smaller than the size means the entry is zstd-compressed. Empty folders are kept
in ``folders``. Checkout therefore needs only this record and the packs it lists.

Body, format 1::

    {"kind": "folder" | "file", "size": 123, "packs": ["<digest>", …],
     "files": [{"path": "a/b.csv", "size": 9, "mode": 420, "digest": "…",
                "chunks": [["<digest>", 0, 5, 9, 9]]}, …],
     "folders": ["empty/folder", …]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from parity.core.errors import UsageError
from parity.core.paths import is_contained
from parity.core.records import StoredRecord
from parity.core.references import (
    RecordReferences,
    Reference,
    Target,
    as_object,
    list_at,
    referenced,
)

DATA_KIND = "data"
DATA_FORMAT = 1
EXECUTABLE = 0o755
REGULAR = 0o644


@dataclass(frozen=True)
class Chunk:
    """A run of a file's bytes stored as one entry of a pack."""

    digest: str  # BLAKE3 of the chunk's bytes
    pack: str  # digest of the pack object holding it
    offset: int  # where the entry starts in the pack's content
    stored: int  # length of the entry in the pack (compressed when < size)
    size: int  # length of the chunk's bytes

    @property
    def compressed(self) -> bool:
        return self.stored < self.size


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    mode: int
    digest: str
    chunks: tuple[Chunk, ...]

    @property
    def executable(self) -> bool:
        return self.mode == EXECUTABLE


@dataclass(frozen=True)
class DataVersion:
    kind: str  # "folder" or "file"
    files: tuple[FileEntry, ...]
    folders: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def packs(self) -> tuple[str, ...]:
        """Every pack this version's content lives in, in order of first use."""
        return tuple(dict.fromkeys(c.pack for f in self.files for c in f.chunks))

    def by_path(self) -> dict[str, FileEntry]:
        return {f.path: f for f in self.files}

    def to_dict(self) -> dict[str, Any]:
        packs = self.packs
        number = {digest: index for index, digest in enumerate(packs)}
        return {
            "kind": self.kind,
            "size": self.size,
            "packs": list(packs),
            "files": [
                {
                    "path": f.path,
                    "size": f.size,
                    "mode": f.mode,
                    "digest": f.digest,
                    "chunks": [
                        [c.digest, number[c.pack], c.offset, c.stored, c.size] for c in f.chunks
                    ],
                }
                for f in sorted(self.files, key=lambda f: f.path)
            ],
            "folders": sorted(self.folders),
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, Any]) -> DataVersion:
        try:
            packs: list[str] = list(body["packs"])
            files = tuple(
                FileEntry(
                    path=f["path"],
                    size=f["size"],
                    mode=f["mode"],
                    digest=f["digest"],
                    chunks=tuple(
                        Chunk(digest, packs[pack], offset, stored, size)
                        for digest, pack, offset, stored, size in f["chunks"]
                    ),
                )
                for f in body["files"]
            )
            folders = tuple(body.get("folders", ()))
            kind = body["kind"]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise damaged_record(exc) from exc
        check_paths((*(f.path for f in files), *folders))
        return cls(kind=kind, files=files, folders=folders)

    def to_record(self) -> StoredRecord:
        return StoredRecord(DATA_KIND, DATA_FORMAT, self.to_dict())

    @classmethod
    def from_record(cls, record: StoredRecord) -> DataVersion:
        return cls.from_dict(record.body_of(DATA_KIND, DATA_FORMAT, "data version record"))


def damaged_record(exc: Exception) -> UsageError:
    return UsageError(
        f"damaged data version record: {exc!r}",
        hint="it was not written by this Parity: check where it came from",
    )


def check_paths(paths: Iterable[str]) -> None:
    """Refuse a record whose paths leave the folder they belong in (``../x``, ``/etc/x``): it
    must never make checkout write, or status report, outside its target."""
    listed = list(paths)
    if _all_contained(listed):
        return
    for path in listed:
        if not isinstance(path, str) or not is_contained(path):
            raise UsageError(
                f"damaged data version record: path {path!r} escapes the folder it belongs in",
                hint="it was not written by Parity: check where it came from; nothing was changed",
            )


def _all_contained(paths: list[str]) -> bool:
    """``is_contained`` for every path at once, in a few passes of C over one string (status
    reads 20,000-path records: one call per path cost ~20 ms). Each path is wrapped as
    ``/path/`` between NULs, so an empty part (``//``), ``/./`` or ``/../`` anywhere is a bad
    part, and a NUL inside a path shows as one NUL too many."""
    try:
        joined = "/\x00/".join(paths)
    except TypeError:
        return False
    wrapped = "/" + joined + "/"
    return (
        wrapped.count("\x00") == len(paths) - 1
        and "//" not in wrapped
        and "/./" not in wrapped
        and "/../" not in wrapped
    )


def data_references(body: Mapping[str, Any]) -> list[Reference]:
    """The packs the content is in, each chunk of them it uses, and each file's content digest."""
    found: list[Reference] = []
    for index, pack in enumerate(list_at(body, "packs")):
        found += referenced(Target.PACK, pack, f"packs[{index}]")
    for index, item in enumerate(list_at(body, "files")):
        where = f"files[{index}]"
        file = as_object(item, where)
        found += referenced(Target.CONTENT, file.get("digest"), f"{where}.digest")
        for number, chunk in enumerate(list_at(file, "chunks")):
            field = f"{where}.chunks[{number}][0]"
            if not isinstance(chunk, list) or not chunk:
                raise UsageError(f"damaged record: {field} is missing")
            found += referenced(Target.CHUNK, chunk[0], field)
    return found


DATA_REFERENCES = RecordReferences(DATA_KIND, DATA_FORMAT, data_references)


def make_version(kind: str, files: Iterable[FileEntry], folders: Iterable[str] = ()) -> DataVersion:
    return DataVersion(kind, tuple(sorted(files, key=lambda f: f.path)), tuple(sorted(folders)))
