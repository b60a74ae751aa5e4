"""What changed in a file or folder since its pointer's version: added, modified, deleted.

Answered from the stat cache: a file whose size, mtime, ctime and inode match the cache is not
read; only files that changed (or that the cache does not know) are hashed, and then remembered.
"""

from __future__ import annotations

import os
import stat as stat_module
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import blake3

from parity.core.file_errors import file_error
from parity.data.hashing import CHUNK_THRESHOLD, chunk_file, read_small
from parity.data.manifest import EXECUTABLE, REGULAR, check_paths, damaged_record
from parity.data.scan import Scan, ScannedFile, scan, stat_of
from parity.data.statcache import Stat, StatCache, cached_digest


@dataclass(frozen=True)
class DataStatus:
    path: str
    data_version: str | None
    added: tuple[str, ...] = ()
    modified: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()

    @property
    def clean(self) -> bool:
        return not (self.added or self.modified or self.deleted)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "data_version": self.data_version,
            "clean": self.clean,
            "added": list(self.added),
            "modified": list(self.modified),
            "deleted": list(self.deleted),
        }


def file_digest(file: ScannedFile, threshold: int = CHUNK_THRESHOLD) -> tuple[str, Stat]:
    """The content digest of a file as a data version records it (the whole file's BLAKE3)."""
    if file.size < threshold:
        data, stat = read_small(file)
        return blake3.blake3(data).hexdigest(), stat
    chunked = chunk_file(file)
    return chunked.digest, chunked.stat


class DigestOracle:
    """Digests of scanned files: from the stat cache when their stat matches, else read."""

    def __init__(self, cache: StatCache, key: str, found: Scan, target: Path) -> None:
        self.cache = cache
        self.key = key
        self.kind = found.kind
        self.mark = cache.mark(target)
        self.known = cache.under(key)
        self.learned: list[tuple[str, Stat, str]] = []

    def cache_key(self, file: ScannedFile) -> str:
        return self.key if self.kind == "file" else f"{self.key}/{file.path}"

    def digest(self, file: ScannedFile) -> str:
        key = self.cache_key(file)
        cached = cached_digest(self.known, key, file.stat)
        if cached is not None:
            return cached
        digest, stat = file_digest(file)
        self.learned.append((key, stat, digest))
        return digest

    def save(self) -> None:
        self.cache.record(self.learned, *self.mark)


def data_status(
    target: Path,
    key: str,
    data_version: str | None,
    expected: dict[str, tuple[str, int, int]],
    cache: StatCache,
) -> DataStatus:
    """Compare ``target`` with ``expected`` (path → (digest, mode, size), from the manifest)."""
    try:
        return _compare(target, key, data_version, expected, cache)
    except OSError as exc:  # an unreadable file or folder, a symlink loop: one line, not a trace
        raise file_error(exc, None, "read") from exc


def _compare(
    target: Path,
    key: str,
    data_version: str | None,
    expected: dict[str, tuple[str, int, int]],
    cache: StatCache,
) -> DataStatus:
    if not target.exists():
        return DataStatus(key, data_version, deleted=tuple(sorted(expected)))
    settled: dict[str, Stat] = {}
    if target.is_dir():
        found, added, modified, seen = _walk_folder(
            target, key, expected, cache.under(key), settled
        )
    else:
        found = scan(target)
        if len(expected) == 1:
            expected = {target.name: next(iter(expected.values()))}  # the file may be renamed
        added, modified, seen = [], [], set()
    oracle = DigestOracle(cache, key, found, target)
    for file in found.files:
        want = expected.get(file.path)
        if want is None:
            added.append(file.path)
            continue
        seen.add(file.path)
        digest, mode, size = want
        if (
            size != file.size
            or mode != (EXECUTABLE if file.executable else REGULAR)
            or oracle.digest(file) != digest
        ):
            modified.append(file.path)
    oracle.save()
    deleted = sorted(set(expected) - seen)
    status = DataStatus(
        key, data_version, tuple(sorted(added)), tuple(sorted(modified)), tuple(deleted)
    )
    if status.clean and data_version and len(settled) == len(expected):
        cache.remember_clean(key, data_version, settled, *oracle.mark)
    return status


def _walk_folder(
    target: Path,
    key: str,
    expected: dict[str, tuple[str, int, int]],
    known: dict[str, str],
    settled: dict[str, Stat],
) -> tuple[Scan, list[str], list[str], set[str]]:
    """The fast path of status: walk the folder and settle every file whose stat matches the
    cache entry of the expected digest with one string comparison, building no objects. Files
    it cannot settle are returned (as a Scan) to be hashed."""
    added: list[str] = []
    modified: list[str] = []
    seen: set[str] = set()
    unsettled: list[ScannedFile] = []
    stack = [(str(target), "")]
    while stack:
        folder, relative = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                name = relative + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, name + "/"))
                    continue
                try:
                    st = entry.stat()
                except FileNotFoundError:
                    continue
                if not stat_module.S_ISREG(st.st_mode):
                    continue
                want = expected.get(name)
                if want is None:
                    added.append(name)
                    continue
                seen.add(name)
                digest, mode, size = want
                executable = bool(st.st_mode & stat_module.S_IXUSR)
                if size != st.st_size or mode != (EXECUTABLE if executable else REGULAR):
                    modified.append(name)
                    continue
                signature = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:"
                if known.get(f"{key}/{name}") != signature + digest:
                    unsettled.append(ScannedFile(name, entry.path, stat_of(st), executable))
                else:
                    settled[name] = stat_of(st)
    return Scan("folder", unsettled, []), added, modified, seen


def expected_files(body: dict[str, Any]) -> dict[str, tuple[str, int, int]]:
    """path → (digest, mode, size) straight from a manifest body (no objects built: fast).

    Its paths are checked as checkout checks them: a damaged or hostile record naming
    ``../../x`` is refused here too, never listed."""
    try:
        expected = {f["path"]: (f["digest"], f["mode"], f["size"]) for f in body["files"]}
    except (KeyError, TypeError) as exc:
        raise damaged_record(exc) from exc
    check_paths(expected)
    return expected


def confirm_clean(target: Path, names: dict[str, str]) -> bool:
    """Whether ``target`` holds exactly the files of a remembered clean tree, each with the
    stat it had then (``StatCache.clean_tree``): one stat and one string comparison per file,
    without reading the version's record."""
    count = 0
    stack = [(str(target), "")]
    while stack:
        folder, relative = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, relative + entry.name + "/"))
                    continue
                try:
                    st = entry.stat()
                except OSError:
                    return False  # gone, a loop, unreadable: the full status says which
                if not stat_module.S_ISREG(st.st_mode):
                    continue
                signature = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:"
                if names.get(relative + entry.name) != signature:
                    return False
                count += 1
    return count == len(names)
