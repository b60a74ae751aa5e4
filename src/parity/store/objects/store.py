"""The content-addressed object store: blobs named by the BLAKE3 digest of their content."""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import blake3
import zstandard

from parity.core.errors import CorruptObject, NotFoundError, UsageError
from parity.core.file_errors import file_error
from parity.core.ids import digest_bytes, is_digest
from parity.core.records import StoredRecord
from parity.store.objects import blob, scratch
from parity.store.objects.backend import ObjectBackend

# Files at least this large are hashed with blake3's own threads and streamed, not slurped.
LARGE_FILE = 8 << 20
# The largest record (run, model, environment) a read takes: the biggest seen, an environment
# of a few thousand packages, is a few MB; anything far past that is a forged or corrupt object.
RECORD_LIMIT = 64 << 20
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

    def close(self) -> None:
        """Let go of connections the backend holds of its own (a remote server's client)."""
        closing = getattr(self.backend, "close", None)
        if callable(closing):
            closing()

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
        fd, encoded = self._encode_file(path, digest)
        try:
            self.backend.write_file(key, encoded)
        finally:
            encoded.unlink(missing_ok=True)
            os.close(fd)  # only now: its lock kept a sweep away from the temp file
        return digest

    def _encode_file(self, path: Path, digest: str) -> tuple[int, Path]:
        """Encode a large file into a temp file in the backend's scratch folder, re-hashing it;
        return it with its open, locked fd (see ``scratch``).

        The re-hash catches a file that changed between hashing and storing.
        """
        fd, tmp = scratch.create(self.backend.scratch_dir(), ".put-")
        hasher = blake3.blake3()
        try:
            with open(path, "rb") as source, open(fd, "wb", closefd=False) as target:
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
            if hasher.hexdigest() != digest:
                raise UsageError(f"{path} changed while it was being stored", hint="try again")
        except BaseException:
            tmp.unlink(missing_ok=True)
            os.close(fd)
            raise
        return fd, tmp

    def put_record(self, record: StoredRecord) -> str:
        """Store a record's canonical bytes; its id is their digest."""
        return self.put_bytes(record.to_bytes())

    # reading -----------------------------------------------------------------------------------
    def get_bytes(self, digest: str, limit: int = blob.IN_MEMORY_LIMIT) -> bytes:
        """The content of ``digest``, verified; CorruptObject if it does not match or would
        hold more than ``limit`` bytes (use ``get_to_file`` for large content)."""
        self._check_digest(digest)
        return blob.decode(digest, self.backend.read(object_key(digest)), limit)

    def get_record(self, record_id: str) -> StoredRecord:
        return StoredRecord.from_bytes(self.get_bytes(record_id, RECORD_LIMIT))

    def get_to_file(self, digest: str, destination: Path, size: int | None = None) -> None:
        """Write the verified content of ``digest`` to ``destination`` atomically.

        A corrupt object leaves ``destination`` untouched. With ``size`` (what the record naming
        the object says it holds), no more than that is ever written.
        """
        self._check_digest(digest)
        key = object_key(digest)
        local = self.backend.local_path(key)
        downloaded: Path | None = None
        held = -1
        try:
            if local is None:
                held, downloaded = scratch.create(self.backend.scratch_dir(), ".get-")
                self.backend.read_to_file(key, downloaded)
                local = downloaded
            try:
                destination.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = scratch.new_file(destination.parent, ".parity-")
            except OSError as exc:
                raise file_error(exc, destination, "write") from exc
            try:
                try:
                    source = open(local, "rb")  # noqa: SIM115 - closed in finally
                except FileNotFoundError as exc:
                    raise NotFoundError(f"object {digest} is not in {self.url}") from exc
                except OSError as exc:
                    raise file_error(exc, local, f"read object {digest[:12]} at") from exc
                try:
                    with os.fdopen(fd, "wb") as target:
                        for block in blob.decode_stream(digest, source, size):
                            target.write(block)
                        target.flush()
                        os.fsync(target.fileno())
                finally:
                    source.close()
                os.replace(tmp, destination)
            except OSError as exc:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise file_error(exc, destination, "write") from exc
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
                raise
        finally:
            if downloaded is not None:
                downloaded.unlink(missing_ok=True)
                os.close(held)

    def stream(self, digest: str, size: int | None = None) -> Iterator[bytes]:
        """The content of ``digest`` in blocks, never more than ``size`` bytes; CorruptObject
        after the last block when it does not hash to ``digest``. A remote object is fetched
        whole into a scratch file first (unlinked at once; the open file keeps it)."""
        self._check_digest(digest)
        key = object_key(digest)
        local = self.backend.local_path(key)
        if local is None:
            held, downloaded = scratch.create(self.backend.scratch_dir(), ".get-")
            try:
                self.backend.read_to_file(key, downloaded)
                source = open(downloaded, "rb")  # noqa: SIM115 - closed in finally below
            finally:
                downloaded.unlink(missing_ok=True)
                os.close(held)
        else:
            try:
                source = open(local, "rb")  # noqa: SIM115 - closed in finally below
            except FileNotFoundError as exc:
                raise NotFoundError(f"object {digest} is not in {self.url}") from exc
            except OSError as exc:
                raise file_error(exc, local, f"read object {digest[:12]} at") from exc
        try:
            yield from blob.decode_stream(digest, source, size)
        finally:
            source.close()

    def verify(self, digest: str, size: int | None = None) -> None:
        """Re-hash one stored object; raise CorruptObject, NotFoundError, or StorageError when
        it cannot be read. With ``size``, an object holding more is corrupt."""
        key = object_key(digest)
        local = self.backend.local_path(key)
        if local is None:
            self._check_digest(digest)
            # Streamed, not decoded whole: the stream stops at ``size``, zstd's one-shot
            # decoder would first allocate whatever size the frame claims.
            for _ in blob.decode_stream(digest, io.BytesIO(self.backend.read(key)), size):
                pass
            return
        try:
            with open(local, "rb") as source:
                for _ in blob.decode_stream(digest, source, size):
                    pass
        except FileNotFoundError as exc:
            raise NotFoundError(f"object {digest} is not in {self.url}") from exc
        except OSError as exc:
            raise file_error(exc, local, f"read object {digest[:12]} at") from exc

    # temp files --------------------------------------------------------------------------------
    def scratch_leftovers(self, started_ns: int | None = None) -> scratch.Leftovers:
        """Temp files killed processes left in the scratch folder (see ``scratch``)."""
        return scratch.leftovers(self.backend.scratch_dir(), started_ns)

    def sweep_scratch(self, started_ns: int | None = None) -> scratch.Leftovers:
        """Delete the temp files killed processes left in the scratch folder."""
        return scratch.sweep(self.backend.scratch_dir(), started_ns)

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
