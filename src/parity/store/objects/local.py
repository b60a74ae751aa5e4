"""Object backend over a local folder: two-character shards, temp file + fsync + rename."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from parity.core.errors import NotFoundError, StorageError
from parity.core.file_errors import file_error
from parity.store.objects import scratch as scratch_files

_TMP = "tmp"


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes, scratch: Path | None = None) -> None:
    """Write ``data`` to ``path``: a reader sees the old file or the whole new one, never a part.

    A file written again keeps its mode; a new one gets the umask's, like any program's file.
    With ``scratch`` (a store's temp folder) the temp file is locked while in use (see
    ``scratch``); the caller translates OSError.
    """
    try:
        mode: int | None = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = None
    if scratch is not None:
        fd, tmp = scratch_files.create(scratch, ".tmp-")
    else:
        fd, tmp = scratch_files.new_file(path.parent, ".tmp-")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
            path.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp, path)  # before the fd closes: its lock marks the file as in use
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


class LocalBackend:
    """Blobs as files under ``root``; temp files live in ``root/tmp`` on the same file system."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()
        try:
            (root / _TMP).mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(
                f"cannot create object folder {root}: {exc.strerror}",
                hint="check the path and its permissions",
            ) from exc

    def _path(self, key: str) -> Path:
        return self.root / key

    def read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise NotFoundError(f"object {key.replace('/', '')} is not in {self.root}") from exc
        except OSError as exc:
            raise StorageError(f"cannot read object {key}: {exc.strerror}") from exc

    def read_to_file(self, key: str, destination: Path) -> None:
        try:
            shutil.copyfile(self._path(key), destination)
        except FileNotFoundError as exc:
            raise NotFoundError(f"object {key.replace('/', '')} is not in {self.root}") from exc
        except OSError as exc:
            raise StorageError(f"cannot read object {key}: {exc.strerror}") from exc

    def write(self, key: str, data: bytes) -> None:
        try:
            atomic_write_bytes(self._path(key), data, scratch=self.root / _TMP)
        except OSError as exc:
            raise StorageError(f"cannot write object {key}: {exc.strerror}") from exc

    def write_file(self, key: str, source: Path) -> None:
        target = self._path(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(source, "rb+") as handle:
                os.fsync(handle.fileno())
            try:
                os.replace(source, target)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                shutil.copyfile(source, target.with_name(target.name + ".part"))
                os.replace(target.with_name(target.name + ".part"), target)
            fsync_dir(target.parent)
        except OSError as exc:
            raise StorageError(f"cannot write object {key}: {exc.strerror}") from exc

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def existing(self, keys: Iterable[str]) -> set[str]:
        return {key for key in keys if self._path(key).is_file()}

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def list_keys(self) -> Iterator[str]:
        try:
            shards = sorted(os.scandir(self.root), key=lambda e: e.name)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise file_error(exc, self.root, "list the objects in") from exc
        for shard in shards:
            if not shard.is_dir() or len(shard.name) != 2:
                continue
            try:
                entries = list(os.scandir(shard.path))
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise file_error(exc, shard.path, "list the objects in") from exc
            for entry in entries:
                if entry.is_file() and not entry.name.startswith("."):
                    yield f"{shard.name}/{entry.name}"

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def scratch_dir(self) -> Path:
        return self.root / _TMP
