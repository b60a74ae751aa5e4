"""Storing and reading data version records, fast: status reads a 20,000-file manifest."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import orjson

from parity.core.errors import NotFoundError, UsageError
from parity.data.manifest import DATA_FORMAT, DATA_KIND, DataVersion
from parity.data.manifest_body import BuiltVersion
from parity.store.objects.store import ObjectStore


class RecordRows(Protocol):
    """Where a stored record gets its index row: the metadata store, or ``index_direct``."""

    def index_records(self, entries: Iterable[tuple[str, str, int, str | None]]) -> None: ...


def load_body(store: ObjectStore, version_id: str) -> dict[str, Any]:
    """The body of a data version record, verified against its id (orjson: ~10x json)."""
    try:
        data = store.get_bytes(version_id)
    except NotFoundError as exc:
        raise NotFoundError(
            f"data version {version_id[:12]} is not in {store.url}",
            hint="fetch it with 'parity data pull'",
        ) from exc
    document = orjson.loads(data)
    if not isinstance(document, dict) or document.get("kind") != DATA_KIND:
        raise UsageError(f"{version_id[:12]} is not a data version")
    if int(document.get("format", 0)) > DATA_FORMAT:
        raise UsageError(
            f"data version {version_id[:12]} has a format newer than this Parity understands",
            hint="upgrade Parity: pip install -U parity-ml",
        )
    body = document["body"]
    assert isinstance(body, dict)
    return body


def load_version(store: ObjectStore, version_id: str) -> DataVersion:
    return DataVersion.from_dict(load_body(store, version_id))


def canonical_record_bytes(version: DataVersion) -> bytes:
    """The record's canonical JSON, byte for byte what ``core.canonical`` writes (sorted keys,
    no spaces, UTF-8 kept), made by orjson: a 20,000-file manifest in milliseconds, not 100."""
    return orjson.dumps(version.to_record().to_dict(), option=orjson.OPT_SORT_KEYS)


def store_version(
    objects: ObjectStore,
    rows: RecordRows,
    version: DataVersion | BuiltVersion,
    created_ms: int,
    label: str,
) -> str:
    """Store the record once and index it (kind ``data``); its id is the digest of its bytes."""
    data = (
        version.record_bytes()
        if isinstance(version, BuiltVersion)
        else canonical_record_bytes(version)
    )
    version_id = objects.put_bytes(data)
    rows.index_records([(version_id, DATA_KIND, created_ms, label)])
    return version_id
