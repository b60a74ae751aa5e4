"""The record body of the version an add builds, made from the previous version's body.

An incremental add of 20,000 files where a few changed keeps almost every entry of the previous
record. Turning that record into ``FileEntry`` and ``Chunk`` objects and back cost more than the
rest of the add, so the add copies the previous body's entries (as parsed from the record, which
was verified against its id) for the files it found unchanged, and builds entries only for the
files it read. The result is byte for byte the body ``DataVersion.to_dict`` gives for the same
files: entries in path order, packs numbered in order of first use (a copied entry's pack numbers
are renumbered when that order moved), the five fields of an entry and nothing else. The
record's format is 2 when a chunk is a delta (it has a base), else 1 (``manifest``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from parity.data.manifest import (
    DATA_FORMAT,
    DATA_KIND,
    PLAIN_FORMAT,
    Chunk,
    FileEntry,
    check_packs,
    check_row,
    damaged_record,
)

Entry = dict[str, Any]  # one item of a body's "files", as the record holds it
_FIELDS = 5  # path, size, mode, digest, chunks
_CHUNK_FIELDS = 5  # digest, pack, offset, stored, size (and a delta's base, a sixth)


class PreviousBody:
    """The previous version's body, its entries found by path. Only the entries an add copies
    are checked further (``build_body``), as ``DataVersion.from_dict`` would check them."""

    def __init__(self, body: Mapping[str, Any], version_id: str = "") -> None:
        self.version_id = version_id
        try:
            self.packs: list[str] = check_packs(body["packs"])
            self.by_path: dict[str, Entry] = {entry["path"]: entry for entry in body["files"]}
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise damaged_record(exc) from exc


@dataclass(frozen=True)
class BuiltVersion:
    """A data version as an add built it: its record body, and what the add reports of it."""

    kind: str
    body: dict[str, Any]
    files: int
    size: int
    format: int = PLAIN_FORMAT

    def record_bytes(self) -> bytes:
        """The record's canonical JSON (what ``versions.canonical_record_bytes`` writes)."""
        document = {"kind": DATA_KIND, "format": self.format, "body": self.body}
        return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def build_body(
    kind: str,
    files: Iterable[Entry | FileEntry],
    folders: Iterable[str],
    previous_packs: Sequence[str] = (),
) -> BuiltVersion:
    """The body of a version holding ``files`` in path order: each a previous entry copied
    (its pack numbers index ``previous_packs``) or a new ``FileEntry``."""
    number: dict[str, int] = {}  # pack digest → its number in the new body
    renumbered: list[int] = [-1] * len(previous_packs)  # previous number → new number
    entries: list[Entry] = []
    size = 0
    deltas = False
    for item in files:
        if isinstance(item, FileEntry):
            chunks = [_row(c, number) for c in item.chunks]
            deltas = deltas or any(c.base is not None for c in item.chunks)
            entries.append(
                {
                    "path": item.path,
                    "size": item.size,
                    "mode": item.mode,
                    "digest": item.digest,
                    "chunks": chunks,
                }
            )
            size += item.size
            continue
        moved = len(item) != _FIELDS
        try:
            for chunk in item["chunks"]:
                # A chunk's pack is numbered before its base's, as ``Chunk.packs`` orders them.
                for old in _pack_numbers(chunk, item["path"], len(previous_packs)):
                    new = renumbered[old]
                    if new < 0:
                        new = renumbered[old] = number.setdefault(previous_packs[old], len(number))
                    if new != old:
                        moved = True
                deltas = deltas or len(chunk) > _CHUNK_FIELDS
            if moved:
                item = {
                    "path": item["path"],
                    "size": item["size"],
                    "mode": item["mode"],
                    "digest": item["digest"],
                    "chunks": [_renumbered(c, renumbered) for c in item["chunks"]],
                }
        except (KeyError, IndexError, TypeError) as exc:
            raise damaged_record(exc) from exc
        entries.append(item)
        size += item["size"]
    body = {
        "kind": kind,
        "size": size,
        "packs": list(number),
        "files": entries,
        "folders": sorted(folders),
    }
    return BuiltVersion(kind, body, len(entries), size, DATA_FORMAT if deltas else PLAIN_FORMAT)


def _row(chunk: Chunk, number: dict[str, int]) -> list[Any]:
    """``Chunk.row``, numbering packs in order of first use as it goes."""
    row: list[Any] = [
        chunk.digest,
        number.setdefault(chunk.pack, len(number)),
        chunk.offset,
        chunk.stored,
        chunk.size,
    ]
    if chunk.base is not None:
        row.append(_row(chunk.base, number))
    return row


def _pack_numbers(chunk: Any, path: object, packs: int) -> list[int]:
    """The pack numbers of a previous entry's chunk: its own, then its base's (a delta). The
    chunk is checked as ``DataVersion.from_dict`` would: a damaged one is never copied."""
    numbers = []
    row = chunk
    for depth in range(2):
        try:
            check_row(row, packs, nested=bool(depth))
        except ValueError as exc:
            raise damaged_record(ValueError(f"{exc} (file {path!r:.100})")) from exc
        numbers.append(row[1])
        if len(row) == _CHUNK_FIELDS:
            break
        row = row[_CHUNK_FIELDS]
    return numbers


def _renumbered(chunk: list[Any], renumbered: list[int]) -> list[Any]:
    row = [chunk[0], renumbered[chunk[1]], chunk[2], chunk[3], chunk[4]]
    if len(chunk) > _CHUNK_FIELDS:
        row.append(_renumbered(chunk[_CHUNK_FIELDS], renumbered))
    return row
