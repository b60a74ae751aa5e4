"""DVC's objects, found where DVC keeps them and checked against DVC's md5 as they are read.

An object named by md5 ``abcdef…`` lives at ``files/md5/ab/cdef…`` (DVC 3) or ``ab/cdef…``
(DVC 2, and DVC 3 for outputs still hashed the DVC 2 way) under the cache folder, and under the
same keys in a remote. A folder's manifest is the object ``<md5>.dir``: a JSON list of
``{"md5", "relpath"}`` (``"isexec": true`` for an executable file). The cache is read first,
then the default remote when it is a local folder or an S3 bucket.

Every byte is hashed on its way to the staging folder; an object whose md5 is not the one DVC
recorded is refused (CorruptObject), so a damaged cache never becomes a Parity version.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from parity.core.errors import CorruptObject, NotFoundError, UsageError
from parity.core.file_errors import file_error
from parity.migrate.dvc.config import DvcConfig, DvcRemote

if TYPE_CHECKING:
    from parity.store.objects.s3 import S3Backend

_BLOCK = 1 << 20
_EMPTY_MD5 = hashlib.md5(b"", usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class ManifestEntry:
    path: str  # relative to the folder, POSIX
    md5: str
    executable: bool


def object_keys(md5: str, suffix: str = "") -> list[str]:
    """Where an object may sit under a cache or remote root: DVC 3's layout, then DVC 2's."""
    return [f"files/md5/{md5[:2]}/{md5[2:]}{suffix}", f"{md5[:2]}/{md5[2:]}{suffix}"]


class _Hasher:
    """DVC's md5 of a stream: plain, and (for DVC 2's text files) with CRLF read as LF."""

    def __init__(self, legacy: bool) -> None:
        self.plain = hashlib.md5(usedforsecurity=False)
        self.unix = hashlib.md5(usedforsecurity=False) if legacy else None
        self._started = False
        self._carry = b""

    def update(self, block: bytes) -> None:
        self.plain.update(block)
        if self.unix is None:
            return
        if not self._started:
            self._started = True
            if b"\x00" in block[:8192]:  # binary: DVC 2 hashed it as it is
                self.unix = None
                return
        text = self._carry + block
        self._carry = b"\r" if text.endswith(b"\r") else b""
        self.unix.update((text[:-1] if self._carry else text).replace(b"\r\n", b"\n"))

    def matches(self, md5: str) -> bool:
        if self.plain.hexdigest() == md5:
            return True
        if self.unix is None:
            return False
        self.unix.update(self._carry)
        self._carry = b""
        return self.unix.hexdigest() == md5


class DvcObjects:
    """Reads DVC's objects from the cache, falling back on the default remote."""

    def __init__(self, config: DvcConfig, scratch: Path) -> None:
        self.roots = [config.cache_dir]
        self.remote: DvcRemote | None = config.remote
        self.scratch = scratch  # where objects from S3 land before they are checked
        self._s3: S3Backend | None = None
        if config.remote is not None and not config.remote.is_s3:
            if "://" in config.remote.url:
                raise UsageError(
                    f"DVC remote {config.remote.name!r} ({config.remote.url}) is neither a "
                    "folder nor s3://",
                    hint="'dvc pull' the data into DVC's cache first, then import",
                )
            self.roots.append(Path(config.remote.url))

    @property
    def places(self) -> str:
        """Where objects are looked for, for messages."""
        shown = [str(root) for root in self.roots]
        if self.remote is not None and self.remote.is_s3:
            shown.append(self.remote.url)
        return ", ".join(shown)

    @contextlib.contextmanager
    def _located(self, md5: str, suffix: str) -> Iterator[tuple[Path, str, bool]]:
        """A local file holding the object, where it came from, and whether the file is ours
        (a download, which may be moved) rather than DVC's."""
        for root in self.roots:
            for key in object_keys(md5, suffix):
                candidate = root / key
                if candidate.is_file():
                    yield candidate, str(candidate), False
                    return
        if self.remote is not None and self.remote.is_s3:
            backend = self._s3_backend()
            for key in object_keys(md5, suffix):
                handle, name = tempfile.mkstemp(dir=self.scratch, prefix="s3-")
                os.close(handle)
                downloaded = Path(name)
                try:
                    backend.read_to_file(key, downloaded)
                except NotFoundError:
                    downloaded.unlink()
                    continue
                try:
                    yield downloaded, f"{self.remote.url}/{key}", True
                finally:
                    downloaded.unlink(missing_ok=True)
                return
        raise NotFoundError(
            f"DVC object {md5}{suffix} is in neither DVC's cache nor its remote ({self.places})",
            hint="run 'dvc pull' (or 'dvc fetch --all-commits') first, then import again",
        )

    def _s3_backend(self) -> S3Backend:
        if self._s3 is None:
            from parity.store.objects.s3 import S3Backend  # lazy: boto3 only for S3 remotes

            assert self.remote is not None
            options = self.remote.options
            self._s3 = S3Backend(self.remote.url, options.get("endpointurl"), options.get("region"))
        return self._s3

    def copy_to(
        self,
        md5: str,
        legacy: bool,
        destination: Path,
        executable: bool = False,
        advance: Callable[[int], None] = lambda _n: None,
    ) -> int:
        """Put object ``md5`` at ``destination`` once its bytes hash to ``md5``; its size.

        The object is read and hashed first; only then does ``destination`` appear: a hard
        link to DVC's file where the file system allows (nothing written; an executable gets a
        copy, so DVC's file keeps its mode), a copy otherwise, the file itself for a download.
        """
        if md5 == _EMPTY_MD5:
            destination.write_bytes(b"")  # DVC may not keep the empty file's object
            return 0
        with self._located(md5, "") as (source, where, ours):
            hasher = _Hasher(legacy)
            size = 0
            try:
                with source.open("rb") as reader:
                    while block := reader.read(_BLOCK):
                        hasher.update(block)
                        size += len(block)
                        advance(len(block))
            except OSError as exc:
                raise file_error(exc, source, "read DVC's object") from exc
            if not hasher.matches(md5):
                raise _corrupt(md5, where, hasher.plain.hexdigest())
            _place(source, destination, move=ours, link=not executable)
        if executable:
            destination.chmod(0o755)
        return size

    def manifest(self, md5: str, legacy: bool) -> list[ManifestEntry]:
        """The entries of folder manifest ``<md5>.dir``, verified against ``md5``."""
        with self._located(md5, ".dir") as (source, where, _ours):
            try:
                data = source.read_bytes()
            except OSError as exc:
                raise file_error(exc, source, "read DVC's object") from exc
        hasher = _Hasher(legacy)
        hasher.update(data)
        if not hasher.matches(md5):
            raise _corrupt(f"{md5}.dir", where, hasher.plain.hexdigest())
        try:
            document = json.loads(data)
            return [
                ManifestEntry(str(e["relpath"]), str(e["md5"]).lower(), bool(e.get("isexec")))
                for e in document
            ]
        except (ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"DVC folder manifest {where} is not a list of md5 and relpath entries",
                hint="check it with 'dvc status -c'",
            ) from exc


def _place(source: Path, destination: Path, move: bool, link: bool) -> None:
    try:
        if move:
            os.replace(source, destination)
            return
        if link:
            try:
                os.link(source, destination)
                return
            except OSError:  # another file system, or links refused: copy instead
                pass
        shutil.copyfile(source, destination)
    except OSError as exc:
        raise file_error(exc, destination, "stage DVC's object") from exc


def _corrupt(name: str, where: str, found: str) -> CorruptObject:
    error = CorruptObject(
        name, f"DVC recorded md5 {name.removesuffix('.dir')}, {where} has {found}"
    )
    error.hint = "DVC's copy is damaged: delete it, run 'dvc fetch' to restore it, import again"
    return error
