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

Format 2 is format 1 where a chunk may carry a sixth field, its *base*: ``[digest, pack, offset,
stored, size, [base digest, base pack, base offset, base stored, base size]]``. Such an entry is
zstd-compressed with the base chunk's bytes as a raw-content dictionary (a delta against an
earlier version of the file, see ``data/delta.py``); the base is always an entry stored whole (it
never has a base itself) and its pack is in ``packs`` like any other, so gc, fsck and transfer
need nothing else. A record is written as format 2 only when one of its chunks has a base: every
other record stays format 1, byte for byte what earlier Parity wrote (and reads).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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
DATA_FORMAT = 2  # the newest format read; written only for records with deltas
PLAIN_FORMAT = 1  # the format of a record without deltas
_LIMIT = 1 << 48  # no pack offset or chunk length reaches this (256 TiB)
_FIELDS = 5  # digest, pack, offset, stored, size; a sixth, the base, makes a delta
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
    # A delta: the entry is zstd with this (whole, never a delta) chunk's bytes as dictionary.
    base: Chunk | None = None

    @property
    def compressed(self) -> bool:
        return self.stored < self.size

    def row(self, number: Mapping[str, int]) -> list[Any]:
        """The chunk as a record holds it, pack digests numbered by ``number``."""
        row: list[Any] = [self.digest, number[self.pack], self.offset, self.stored, self.size]
        if self.base is not None:
            row.append(self.base.row(number))
        return row

    @property
    def packs(self) -> tuple[str, ...]:
        """The packs reading it needs: its own, then its base's."""
        return (self.pack,) if self.base is None else (self.pack, self.base.pack)


def chunk_of(row: Sequence[Any], packs: Sequence[str], nested: bool = False) -> Chunk:
    """A chunk from its record form (``Chunk.row``); raises on a malformed one. A base is
    always stored whole: a base with a base of its own is refused (reads stay one level)."""
    if len(row) == _FIELDS:
        digest, pack, offset, stored, size = row
        return Chunk(_digest(digest), packs[_index(pack)], *_lengths(offset, stored, size))
    if len(row) != _FIELDS + 1 or nested:
        raise ValueError(f"chunk {row!r} has {len(row)} fields")
    digest, pack, offset, stored, size, base = row
    if not isinstance(base, list):
        raise ValueError(f"the base of chunk {digest!r} is {base!r}")
    return Chunk(
        _digest(digest),
        packs[_index(pack)],
        *_lengths(offset, stored, size),
        chunk_of(base, packs, True),
    )


def _index(number: object) -> int:
    if type(number) is not int or number < 0:
        raise ValueError(f"pack number {number!r}")
    return number


def _digest(digest: object) -> str:
    if not isinstance(digest, str) or not digest:
        raise ValueError(f"chunk digest {digest!r}")
    return digest


def _lengths(*numbers: object) -> tuple[int, int, int]:
    """Offset, stored length and size: plain ints in [0, 2**48), so that no read ever starts
    at a negative or absurd offset (a bool or float would be taken for a number otherwise)."""
    for number in numbers:
        if type(number) is not int or not 0 <= number < _LIMIT:
            raise ValueError(f"chunk offset or length {number!r}")
    offset, stored, size = numbers
    return offset, stored, size  # type: ignore[return-value]


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
        return tuple(dict.fromkeys(p for f in self.files for c in f.chunks for p in c.packs))

    @property
    def format(self) -> int:
        """2 when a chunk is a delta, else 1 (what a Parity without deltas wrote and reads)."""
        has_delta = any(c.base is not None for f in self.files for c in f.chunks)
        return DATA_FORMAT if has_delta else PLAIN_FORMAT

    def stored_whole(self) -> dict[str, Chunk]:
        """Every chunk stored whole that reading this version uses (deltas' bases included),
        by digest: what the chunk index can hold (it has no field for a base)."""
        found: dict[str, Chunk] = {}
        for f in self.files:
            for c in f.chunks:
                whole = c if c.base is None else c.base
                found.setdefault(whole.digest, whole)
        return found

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
                    "chunks": [c.row(number) for c in f.chunks],
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
                    chunks=tuple(chunk_of(row, packs) for row in f["chunks"]),
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
        return StoredRecord(DATA_KIND, self.format, self.to_dict())

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
            if len(chunk) > _FIELDS:  # a delta (format 2): its base is a chunk too
                base = chunk[_FIELDS]
                if not isinstance(base, list) or not base:
                    raise UsageError(f"damaged record: {where}.chunks[{number}][5] is missing")
                found += referenced(Target.CHUNK, base[0], f"{where}.chunks[{number}][5][0]")
    return found


DATA_REFERENCES = RecordReferences(DATA_KIND, DATA_FORMAT, data_references)


def make_version(kind: str, files: Iterable[FileEntry], folders: Iterable[str] = ()) -> DataVersion:
    return DataVersion(kind, tuple(sorted(files, key=lambda f: f.path)), tuple(sorted(folders)))
