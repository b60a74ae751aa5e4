"""The content-addressed object store: blobs named by the BLAKE3 digest of their content."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import blake3
import zstandard

from parity.core.errors import CorruptObject, NotFoundError, UsageError
from parity.core.ids import digest_bytes, is_digest
from parity.core.records import StoredRecord
from parity.store.objects import blob
from parity.store.objects.backend import ObjectBackend

# Files at least this large are hashed with blake3's own threads and streamed, not slurped.
LARGE_FILE = 8 << 20
_COPY_BLOCK = 1 << 20


def object_key(digest: str) -> str:
    return f"{digest[:2]}/{digest[2:]}"


def digest_of_key(key: str) -> str:
    return key.replace("/", "")


def hash_file(path: Path) -> str:
    """The BLAKE3 digest of a file's content, multithreaded and memory-mapped when large."""
    size = path.stat().st_size
    if size >= LARGE_FILE:
        return blake3.blake3(max_threads=blake3.blake3.AUTO).update_mmap(path).hexdigest()
    return blake3.blake3(path.read_bytes()).hexdigest()


class ObjectStore:
    """Put and get content by digest over any ObjectBackend, verifying every read."""

    def __init__(self, backend: ObjectBackend) -> None:
        self.backend = backend

    @property
    def url(self) -> str:
        return self.backend.url

    # writing -----------------------------------------------------------------------------------
    def put_bytes(self, content: bytes) -> str:
        """Store ``content`` (once) and return its digest."""
        digest = digest_bytes(content)
        key = object_key(digest)
        if not self.backend.exists(key):
            self.backend.write(key, blob.encode(content))
        return digest

    def put_file(self, path: Path, digest: str | None = None) -> str:
        """Store a file's content (once) and return its digest, streaming large files."""
        size = path.stat().st_size
        if size < LARGE_FILE:
            content = path.read_bytes()
            actual = digest_bytes(content)
            if digest is not None and digest != actual:
                raise UsageError(f"{path} changed while it was being stored", hint="try again")
            key = object_key(actual)
            if not self.backend.exists(key):
                self.backend.write(key, blob.encode(content))
            return actual
        digest = digest or hash_file(path)
        key = object_key(digest)
        if self.backend.exists(key):
            return digest
        encoded = self._encode_file(path, digest)
        try:
            self.backend.write_file(key, encoded)
        finally:
            encoded.unlink(missing_ok=True)
        return digest

    def _encode_file(self, path: Path, digest: str) -> Path:
        """Encode a large file into a temp file in the backend's scratch folder, re-hashing it.

        The re-hash catches a file that changed between hashing and storing.
        """
        scratch = self.backend.scratch_dir()
        fd, tmp_name = tempfile.mkstemp(dir=scratch, prefix=".put-")
        tmp = Path(tmp_name)
        hasher = blake3.blake3()
        try:
            with open(path, "rb") as source, os.fdopen(fd, "wb") as target:
                sample = source.read(_COPY_BLOCK)
                compress = blob.worth_compressing(sample)
                target.write(blob.header(blob.CODEC_ZSTD if compress else blob.CODEC_RAW))
                writer = (
                    zstandard.ZstdCompressor(level=blob.ZSTD_LEVEL, threads=-1).stream_writer(
                        target, closefd=False
                    )
                    if compress
                    else target
                )
                block = sample
                while block:
                    hasher.update(block)
                    writer.write(block)
                    block = source.read(_COPY_BLOCK)
                if compress:
                    writer.close()
                target.flush()
                os.fsync(target.fileno())
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        if hasher.hexdigest() != digest:
            tmp.unlink(missing_ok=True)
            raise UsageError(f"{path} changed while it was being stored", hint="try again")
        return tmp

    def put_record(self, record: StoredRecord) -> str:
        """Store a record's canonical bytes; its id is their digest."""
        return self.put_bytes(record.to_bytes())

    # reading -----------------------------------------------------------------------------------
    def get_bytes(self, digest: str) -> bytes:
        """The content of ``digest``, verified; CorruptObject if it does not match."""
        self._check_digest(digest)
        return blob.decode(digest, self.backend.read(object_key(digest)))

    def get_record(self, record_id: str) -> StoredRecord:
        return StoredRecord.from_bytes(self.get_bytes(record_id))

    def get_to_file(self, digest: str, destination: Path) -> None:
        """Write the verified content of ``digest`` to ``destination`` atomically.

        A corrupt object leaves ``destination`` untouched.
        """
        self._check_digest(digest)
        key = object_key(digest)
        local = self.backend.local_path(key)
        downloaded: Path | None = None
        if local is None:
            fd, name = tempfile.mkstemp(dir=self.backend.scratch_dir(), prefix=".get-")
            os.close(fd)
            downloaded = Path(name)
            self.backend.read_to_file(key, downloaded)
            local = downloaded
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=".parity-")
        try:
            try:
                source = open(local, "rb")  # noqa: SIM115 - closed in finally
            except FileNotFoundError as exc:
                raise NotFoundError(f"object {digest} is not in {self.url}") from exc
            try:
                with os.fdopen(fd, "wb") as target:
                    for block in blob.decode_stream(digest, source):
                        target.write(block)
                    target.flush()
                    os.fsync(target.fileno())
            finally:
                source.close()
            os.replace(tmp_name, destination)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp_name)
            raise
        finally:
            if downloaded is not None:
                downloaded.unlink(missing_ok=True)

    def verify(self, digest: str) -> None:
        """Re-hash one stored object; raise CorruptObject or NotFoundError."""
        key = object_key(digest)
        local = self.backend.local_path(key)
        if local is None:
            self.get_bytes(digest)
            return
        try:
            with open(local, "rb") as source:
                for _ in blob.decode_stream(digest, source):
                    pass
        except FileNotFoundError as exc:
            raise NotFoundError(f"object {digest} is not in {self.url}") from exc

    # inventory ---------------------------------------------------------------------------------
    def has(self, digest: str) -> bool:
        return self.backend.exists(object_key(digest))

    def missing(self, digests: Iterable[str]) -> set[str]:
        wanted = {object_key(d): d for d in digests}
        present = self.backend.existing(wanted)
        return {digest for key, digest in wanted.items() if key not in present}

    def digests(self) -> Iterator[str]:
        for key in self.backend.list_keys():
            digest = digest_of_key(key)
            if is_digest(digest):
                yield digest

    def delete(self, digest: str) -> None:
        self.backend.delete(object_key(digest))

    @staticmethod
    def _check_digest(digest: str) -> None:
        if not is_digest(digest):
            raise UsageError(f"{digest!r} is not a full object digest")


def corrupt_digests(store: ObjectStore, digests: Iterable[str]) -> list[CorruptObject]:
    """Verify ``digests`` and return the corruption found (used by fsck)."""
    found: list[CorruptObject] = []
    for digest in digests:
        try:
            store.verify(digest)
        except CorruptObject as exc:
            found.append(exc)
    return found
