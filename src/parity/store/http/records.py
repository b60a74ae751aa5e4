"""The record index of a Parity server, over HTTP: ``RecordIndex`` as ``RecordStore`` uses it.

``exclusive(name)`` cannot hold a database lock across requests, so it holds a lease on the
server instead: a row naming the holder and when it expires, renewed by a thread while the
block runs and released when it ends. A holder killed mid-block stops renewing, and its lease
expires within one lease time; the next holder then takes it.
"""

from __future__ import annotations

import contextlib
import re
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from parity.core.config import masked_url
from parity.core.errors import ParityError
from parity.core.ids import is_digest
from parity.store.http.client import segment

if TYPE_CHECKING:
    from parity.store.http.client import ServerClient

# Entries per index request, and ids per page of a listing.
INDEX_BATCH = 5_000
ID_PAGE = 10_000
LEASE_S = 30.0
_LONGEST_WAIT_S = 1.0
_HEX_PREFIX = re.compile(r"^[0-9a-f]{0,64}$")


class HttpRecordIndex:
    """The record index of the server ``client`` talks to."""

    def __init__(self, client: ServerClient, lease_s: float = LEASE_S) -> None:
        self.client = client
        self.lease_s = lease_s

    @property
    def url(self) -> str:
        return masked_url(self.client.url)

    def index_records(self, entries: Iterable[tuple[str, str, int, str | None]]) -> None:
        rows = [
            {"id": rid, "kind": kind, "created_ms": created, "label": label}
            for rid, kind, created, label in entries
        ]
        for start in range(0, len(rows), INDEX_BATCH):
            # Indexing skips known ids, so a retried batch changes nothing.
            self.client.post(
                "/records/index", {"entries": rows[start : start + INDEX_BATCH]}, retry=True
            )

    def record_ids(self, kind: str | None = None, prefix: str = "") -> list[str]:
        if not _HEX_PREFIX.match(prefix):
            return []  # ids are hex: nothing starts with anything else
        found: list[str] = []
        params: dict[str, str | int] = {"prefix": prefix, "limit": ID_PAGE}
        if kind is not None:
            params["kind"] = kind
        while True:
            after = found[-1] if found else ""
            page = self.client.get("/records", params={**params, "after": after})
            found.extend(page["ids"])
            if len(page["ids"]) < ID_PAGE:
                return found

    def record_kind(self, record_id: str) -> str | None:
        if not is_digest(record_id):
            return None
        answer = self.client.get(f"/records/{segment(record_id)}/kind")
        kind: str | None = answer["kind"]
        return kind

    def count_records(self) -> dict[str, int]:
        counts: dict[str, int] = self.client.get("/records/counts")["counts"]
        return counts

    def labelled_records(self, kind: str, label: str) -> list[str]:
        answer = self.client.get("/records/labelled", params={"kind": kind, "label": label})
        ids: list[str] = answer["ids"]
        return ids

    def referenced_data_versions(self) -> dict[str, str]:
        versions: dict[str, str] = self.client.get("/records/referenced-data-versions")["versions"]
        return versions

    def schema_revisions(self) -> list[str]:
        revisions: list[str] = self.client.get("/schema")["revisions"]
        return revisions

    @contextlib.contextmanager
    def exclusive(self, name: str) -> Iterator[None]:
        holder = secrets.token_hex(16)
        path = f"/leases/{segment(name)}"
        body = {"holder": holder, "seconds": self.lease_s}
        pause = 0.05
        while not self.client.post(path, body, retry=True)["held"]:
            time.sleep(pause)
            pause = min(_LONGEST_WAIT_S, pause * 1.5)
        stop = threading.Event()
        heartbeat = threading.Thread(
            target=self._renew, args=(path, body, stop), name=f"lease {name}", daemon=True
        )
        heartbeat.start()
        try:
            yield
        finally:
            stop.set()
            heartbeat.join()
            # A release that fails leaves the lease to expire by itself.
            with contextlib.suppress(ParityError):
                self.client.request("DELETE", path, params={"holder": holder})

    def _renew(self, path: str, body: dict[str, object], stop: threading.Event) -> None:
        while not stop.wait(self.lease_s / 3):
            # A renewal the server missed is tried again at the next beat, before it expires.
            with contextlib.suppress(ParityError):
                self.client.post(path, body, retry=True)

    def close(self) -> None:
        """Nothing to close: the workspace owns the client."""
