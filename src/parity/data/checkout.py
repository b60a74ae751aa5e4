"""Checkout: make a file or folder hold a data version, file by file, atomically.

Each file is written to a temp file beside it, verified chunk by chunk (and as a whole), then
renamed into place, so a reader sees the old file or the new one. Content is copied out of the
packs: a hardlink would let an edit through it corrupt the store, and a pack holds many entries,
so there is no whole object to reflink. A file the user changed (it matches neither the version
being checked out nor the one checked out now) is never overwritten without ``force``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import blake3

from parity.core.errors import ConflictError, CorruptObject, UsageError
from parity.core.file_errors import file_error
from parity.data.manifest import DataVersion, FileEntry
from parity.data.packs import PackReader
from parity.data.progress import Progress, no_progress
from parity.data.scan import Scan, ScannedFile, scan, stat_of
from parity.data.statcache import Stat, StatCache
from parity.data.status import DigestOracle
from parity.store.objects.scratch import new_file, umask
from parity.store.objects.store import ObjectStore

_SHOWN = 5
# Files at least this large are fsynced before the rename; smaller ones rely on the store
# (a crash costs a re-checkout, never data: the content is in the object store).
_FSYNC_FROM = 4 << 20


@dataclass
class CheckoutResult:
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    kept: list[str] = field(default_factory=list)  # files neither version has, left alone

    def to_dict(self) -> dict[str, Any]:
        return {
            "written": self.written,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "kept": self.kept,
        }


def _destination(target: Path, want: DataVersion, entry: FileEntry) -> Path:
    return target if want.kind == "file" else target.joinpath(*entry.path.split("/"))


def _existing(target: Path, want: DataVersion, force: bool) -> Scan:
    if not target.exists() and not target.is_symlink():
        return Scan(want.kind, [], [])
    is_file = target.is_file()
    if is_file != (want.kind == "file"):
        if not force:
            raise ConflictError(
                f"{target} is a {'file' if is_file else 'folder'}, the version is a {want.kind}",
                hint="move it away or pass --force to replace it",
            )
        if is_file or target.is_symlink():
            target.unlink()
        else:
            shutil.rmtree(target)
        return Scan(want.kind, [], [])
    return scan(target)


def checkout(
    store: ObjectStore,
    cache: StatCache,
    target: Path,
    key: str,
    want: DataVersion,
    current: DataVersion | None,
    force: bool = False,
    progress: Progress = no_progress,
    within: Path | None = None,
) -> CheckoutResult:
    """Make ``target`` hold ``want``; ``current`` is the version its pointer names now.

    With ``within`` (the workspace root), nothing is written or removed where a symlink would
    lead outside it: the whole checkout is refused first.

    A file system that refuses (a read-only folder, a name too long) stops it with a one-line
    error; each file is whole, old or new, and the pointer is left as it was."""
    try:
        if within is not None:
            confine(target, within.resolve(), {})
        return _checkout(store, cache, target, key, want, current, force, progress, within)
    except OSError as exc:
        raise file_error(exc, None, "write") from exc


def _checkout(
    store: ObjectStore,
    cache: StatCache,
    target: Path,
    key: str,
    want: DataVersion,
    current: DataVersion | None,
    force: bool,
    progress: Progress,
    within: Path | None = None,
) -> CheckoutResult:
    found = _existing(target, want, force)
    oracle = DigestOracle(cache, key, found, target)
    on_disk = {f.path: f for f in found.files}
    if want.kind == "file" and found.files and want.files:
        on_disk = {want.files[0].path: found.files[0]}  # the file may have been renamed
    now = current.by_path() if current is not None else {}
    result = CheckoutResult()
    to_write: list[FileEntry] = []
    to_fix_mode: list[tuple[FileEntry, ScannedFile]] = []
    conflicts: list[str] = []
    for entry in want.files:
        file = on_disk.get(entry.path)
        if file is None:
            to_write.append(entry)
            continue
        digest = oracle.digest(file)
        if digest == entry.digest:
            if file.executable != entry.executable:
                to_fix_mode.append((entry, file))
            result.unchanged += 1
            continue
        was = now.get(entry.path)
        if force or (was is not None and was.digest == digest):
            to_write.append(entry)
        else:
            conflicts.append(entry.path)
    wanted = want.by_path()
    to_remove: list[ScannedFile] = []
    for path, file in on_disk.items():
        if path in wanted:
            continue
        was = now.get(path)
        if force or (was is not None and oracle.digest(file) == was.digest):
            to_remove.append(file)
        else:
            result.kept.append(path)
    if conflicts:
        shown = ", ".join(conflicts[:_SHOWN]) + (" …" if len(conflicts) > _SHOWN else "")
        raise ConflictError(
            f"{len(conflicts)} files in {key} were changed and would be overwritten: {shown}",
            hint=f"version them first with 'parity data add {key}', or pass --force",
        )
    if within is not None:
        root, seen = within.resolve(), dict[Path, Path]()
        for file in to_remove:
            confine(Path(file.full), root, seen)
        for entry in to_write:
            confine(_destination(target, want, entry), root, seen)
    # Old files go first: a file of the old version may stand where a folder of the new one
    # must be created (they are copies of what the store holds, so nothing is lost).
    for file in to_remove:
        Path(file.full).unlink(missing_ok=True)
        result.removed.append(file.path)
    total = sum(e.size for e in to_write)
    done = 0
    mask = umask()
    with PackReader(store) as reader:
        for entry in to_write:
            destination = _destination(target, want, entry)
            stat = _materialise(reader, entry, destination, force, mask)
            cache_key = key if want.kind == "file" else f"{key}/{entry.path}"
            oracle.learned.append((cache_key, stat, entry.digest))
            result.written.append(entry.path)
            done += entry.size
            progress(done, total)
    for entry, file in to_fix_mode:
        Path(file.full).chmod(entry.mode & ~mask)
    if want.kind == "folder":
        target.mkdir(parents=True, exist_ok=True)  # a version without files is still a folder
        for folder in want.folders:
            target.joinpath(*folder.split("/")).mkdir(parents=True, exist_ok=True)
        _prune_empty(target, found, want)
    oracle.save()
    return result


def confine(path: Path, root: Path, seen: dict[Path, Path] | None = None) -> None:
    """Refuse ``path`` when its nearest existing ancestor (or itself) resolves outside
    ``root``: a symlinked folder or data path must not make a checkout write elsewhere."""
    probe = path
    while not probe.exists() and not probe.is_symlink() and probe != probe.parent:
        probe = probe.parent
    known = {} if seen is None else seen
    real = known.get(probe)
    if real is None:
        real = known[probe] = probe.resolve()
    if real != root and root not in real.parents:
        raise UsageError(
            f"{path} leads outside the workspace (to {real})",
            hint="checkout writes only inside the workspace: replace the symlink with a folder",
        )


def _materialise(
    reader: PackReader, entry: FileEntry, destination: Path, force: bool, mask: int
) -> Stat:
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as exc:
        raise ConflictError(
            f"cannot create the folder for {entry.path}: a file of yours is in the way",
            hint="move it away, or pass --force",
        ) from exc
    try:
        fd, tmp_name = new_file(destination.parent, ".parity-", 0o600)
    except OSError as exc:
        raise file_error(exc, destination.parent, "write into") from exc
    try:
        whole = blake3.blake3()
        with os.fdopen(fd, "wb") as out:
            for chunk in entry.chunks:
                data = reader.read(chunk)
                if len(entry.chunks) > 1:
                    whole.update(data)
                out.write(data)
            if len(entry.chunks) > 1 and whole.hexdigest() != entry.digest:
                raise CorruptObject(entry.digest, f"the chunks of {entry.path} do not add up")
            os.fchmod(out.fileno(), entry.mode & ~mask)  # the umask applies, as to git's files
            if entry.size >= _FSYNC_FROM:
                out.flush()
                os.fsync(out.fileno())
        if destination.is_dir() and not destination.is_symlink():
            try:
                if force:
                    shutil.rmtree(destination)
                else:
                    destination.rmdir()  # emptied of the old version's files above
            except OSError as exc:
                raise ConflictError(
                    f"{entry.path} is a folder of yours here and a file in the version",
                    hint="move the folder away, or pass --force",
                ) from exc
        os.replace(tmp_name, destination)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        if isinstance(exc, OSError):
            raise file_error(exc, destination, "write") from exc
        raise
    return stat_of(destination.stat())


def _prune_empty(target: Path, found: Scan, want: DataVersion) -> None:
    """Remove folders the old files left empty, unless the version keeps them."""
    keep = set(want.folders)
    for entry in want.files:
        parts = entry.path.split("/")[:-1]
        keep.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    folders = {
        "/".join(f.path.split("/")[: i + 1]) for f in found.files for i in range(f.path.count("/"))
    }
    folders.update(found.empty_folders)
    for folder in sorted(folders - keep, key=lambda f: -f.count("/")):
        with contextlib.suppress(OSError):
            target.joinpath(*folder.split("/")).rmdir()
