"""The record index port: which immutable records exist, of which kind, under which label.

``RecordStore`` keeps a record's bytes in the object store and its index row behind this port.
The metadata store (SQLite, PostgreSQL) implements it with SQL; a Parity server's client
(``parity.store.http.records``) implements it over HTTP, so every caller works either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Protocol


class RecordIndex(Protocol):
    """What record stores and data versioning ask of the index of stored records."""

    @property
    def url(self) -> str:
        """Where the index lives, for messages (never a password)."""
        ...

    def index_records(self, entries: Iterable[tuple[str, str, int, str | None]]) -> None:
        """Remember stored records as (id, kind, created_ms, label); known ids are skipped."""
        ...

    def record_ids(self, kind: str | None = None, prefix: str = "") -> list[str]:
        """The indexed ids (of ``kind``, starting with ``prefix``), sorted."""
        ...

    def record_kind(self, record_id: str) -> str | None: ...

    def count_records(self) -> dict[str, int]:
        """How many records of each kind are indexed."""
        ...

    def labelled_records(self, kind: str, label: str) -> list[str]:
        """The ids of ``kind`` indexed with ``label``, oldest first."""
        ...

    def referenced_data_versions(self) -> dict[str, str]:
        """Every data version a row of the metadata store names → one place naming it."""
        ...

    def exclusive(self, name: str) -> AbstractContextManager[None]:
        """Hold the lock ``name`` for the block, shutting out every other holder of that name
        who shares this index; a killed holder's lock goes away by itself."""
        ...

    def schema_revisions(self) -> list[str]: ...

    def close(self) -> None: ...
