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
from parity.core.ids import DIGEST_HEX_LENGTH, is_digest
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
_FIELDS = 5  # digest, pack, offset, stored, size; a sixth, the base, makes a delta
# The largest offset, stored length or size a chunk record may state (256 TiB): a larger one is
# damage, and must never reach a seek, a read or an allocation.
MAX_LENGTH = 1 << 48
_HEX_DIGITS = "0123456789abcdef"
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
    """A chunk from its record form (``Chunk.row``); ValueError on a malformed one
    (``check_row``), before anything is read."""
    check_row(row, len(packs), nested)
    digest, pack, offset, stored, size = row[:_FIELDS]
    if len(row) == _FIELDS:
        return Chunk(digest, packs[pack], offset, stored, size)
    return Chunk(digest, packs[pack], offset, stored, size, chunk_of(row[_FIELDS], packs, True))


def check_row(row: object, packs: int, nested: bool = False) -> None:
    """ValueError unless ``row`` is a sound chunk record: a digest, a number of one of the
    record's ``packs``, an offset, stored length and size that are plain ints from 0 to
    ``MAX_LENGTH``, and maybe a base, itself sound and never with a base of its own (a base
    is always stored whole: reads stay one level). Its own base is checked by its caller."""
    if type(row) is not list or len(row) not in (_FIELDS, _FIELDS + 1):
        raise ValueError(f"chunk {row!r:.100} is not a list of {_FIELDS} or {_FIELDS + 1} fields")
    digest, pack, offset, stored, size = row[:_FIELDS]
    # One expression for the common case (status reads records of 20,000 chunks); ``type is
    # int``: a bool is an int to Python, and a float or a string would slice or seek elsewhere.
    if not (
        type(digest) is str
        and len(digest) == DIGEST_HEX_LENGTH
        and not digest.strip(_HEX_DIGITS)
        and type(pack) is int
        and 0 <= pack < packs
        and type(offset) is int
        and type(stored) is int
        and type(size) is int
        and 0 <= offset <= MAX_LENGTH
        and 0 <= stored <= MAX_LENGTH
        and 0 <= size <= MAX_LENGTH
    ):
        raise ValueError(_what_is_wrong(row, packs))
    if len(row) == _FIELDS:
        return
    base = row[_FIELDS]
    if nested:
        raise ValueError(f"the base of chunk {digest[:12]} has a base of its own")
    if type(base) is not list:
        raise ValueError(f"the base of chunk {digest[:12]} is {base!r:.100}")


def _what_is_wrong(row: list[Any], packs: int) -> str:
    digest = row[0]
    if type(digest) is not str or not is_digest(digest):
        return f"chunk digest {digest!r} is not a digest"
    if not _in_range(row[1], packs - 1):
        return f"chunk {digest[:12]} is in pack number {row[1]!r}, of {packs} listed"
    names = ("offset", "stored length", "size")
    name, value = next((n, v) for n, v in zip(names, row[2:], strict=False) if not _in_range(v))
    return f"the {name} of chunk {digest[:12]} is {value!r}, not a whole number to {MAX_LENGTH}"


def _in_range(value: object, most: int = MAX_LENGTH) -> bool:
    return type(value) is int and 0 <= value <= most


def check_packs(packs: Iterable[object]) -> list[str]:
    """A record's ``packs``: each a digest, or ValueError (they become object store keys)."""
    checked: list[str] = []
    for pack in packs:
        if not isinstance(pack, str) or not is_digest(pack):
            raise ValueError(f"pack {pack!r} is not a digest")
        checked.append(pack)
    return checked


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
            packs = check_packs(body["packs"])
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
