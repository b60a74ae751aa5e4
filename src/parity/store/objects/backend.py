"""The narrow port every object backend implements: bytes in, bytes out, by key."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Protocol


class ObjectBackend(Protocol):
    """Where encoded blobs live. Keys look like ``ab/cdef…``; writes must be atomic."""

    url: str

    def read(self, key: str) -> bytes:
        """The stored bytes; NotFoundError when the key is absent, StorageError on failure."""
        ...

    def read_to_file(self, key: str, destination: Path) -> None:
        """Stream the stored bytes into ``destination`` (which the caller owns)."""
        ...

    def write(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key`` so that a reader sees either nothing or all of it."""
        ...

    def write_file(self, key: str, source: Path) -> None:
        """Store the file ``source`` under ``key``; the backend may move it (it is a temp file)."""
        ...

    def exists(self, key: str) -> bool: ...

    def existing(self, keys: Iterable[str]) -> set[str]:
        """The subset of ``keys`` that are stored (backends answer in bulk where they can)."""
        ...

    def delete(self, key: str) -> None: ...

    def list_keys(self) -> Iterator[str]:
        """Every stored key, in no particular order."""
        ...

    def local_path(self, key: str) -> Path | None:
        """The file holding ``key`` when the backend is a local folder, else None."""
        ...

    def scratch_dir(self) -> Path:
        """A local folder for temp files the store prepares before handing them over."""
        ...
