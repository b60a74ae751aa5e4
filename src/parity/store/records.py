"""Immutable records: their bytes in the object store, an index row in the metadata store."""

from __future__ import annotations

from typing import TYPE_CHECKING

from parity.core.errors import NotFoundError
from parity.core.ids import is_digest, resolve_prefix
from parity.core.records import StoredRecord

if TYPE_CHECKING:
    from parity.store.objects.store import ObjectStore
    from parity.store.records_index import RecordIndex


class RecordStore:
    def __init__(self, objects: ObjectStore, meta: RecordIndex) -> None:
        self.objects = objects
        self.meta = meta

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
