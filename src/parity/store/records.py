"""Immutable records: their bytes in the object store, an index row in the metadata store."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from parity.core.errors import NotFoundError
from parity.core.ids import is_digest, resolve_prefix
from parity.core.records import StoredRecord

if TYPE_CHECKING:
    from parity.store.objects.store import ObjectStore
    from parity.store.records_index import RecordIndex


class RecordStore:
    """Records by id. The index is ``meta``, or what ``open_index`` opens on its first use:
    reading a record by its full id needs only the object store, so a command that only reads
    (a model server starting) never opens the metadata store for it."""

    def __init__(
        self,
        objects: ObjectStore,
        meta: RecordIndex | None = None,
        *,
        open_index: Callable[[], RecordIndex] | None = None,
    ) -> None:
        if (meta is None) == (open_index is None):
            raise TypeError("RecordStore takes an index or a way to open one, not both")
        self.objects = objects
        self._meta = meta
        self._open_index = open_index
        self._stores_key: str | None = None

    @property
    def meta(self) -> RecordIndex:
        if self._meta is None:
            assert self._open_index is not None  # one of the two is set (see __init__)
            self._meta = self._open_index()
        return self._meta

    @property
    def stores_key(self) -> str:
        """Which stores these are (object store and index URLs), for what a process keeps per
        pair of stores; worked out once (rendering an engine's URL is not free)."""
        if self._stores_key is None:
            self._stores_key = f"{self.objects.url} {self.meta.url}"
        return self._stores_key

    def put(self, record: StoredRecord, created_ms: int, label: str | None = None) -> str:
        """Store ``record`` (idempotent: the same content gives the same id) and index it."""
        record_id = self.objects.put_record(record)
        self.meta.index_records([(record_id, record.kind, created_ms, label)])
        return record_id

    def get(self, record_id: str, kind: str | None = None) -> StoredRecord:
        record = self.objects.get_record(record_id)
        if kind is not None and record.kind != kind:
            raise NotFoundError(f"{record_id[:12]} is a {record.kind} record, not a {kind} record")
        return record

    def resolve(self, prefix: str, kind: str | None = None) -> str:
        """The full id of the one indexed record (of ``kind``) whose id starts with ``prefix``."""
        prefix = prefix.lower()
        if is_digest(prefix) and (kind is None or self.meta.record_kind(prefix) == kind):
            return prefix
        return resolve_prefix(prefix, self.meta.record_ids(kind, prefix), kind or "record")
