"""Reads that skip SQLAlchemy: the short commands (``parity status``, ``runs list``,
``models show NAME``) of a workspace with its own SQLite database.

SQLAlchemy's import alone (~110 ms) costs more than these commands' whole work, so when the
workspace's metadata database is a local SQLite file stamped with exactly this Parity's schema,
the API functions read it with the stdlib ``sqlite3`` (``store.meta.direct``) through the
``*_direct`` readers, which give the same answers as the stores. Anything else (a server, a
PostgreSQL URL, a database to migrate or from a newer Parity, a URL SQLAlchemy would spell
differently) gives None here and the call goes through the stores as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.core.records import StoredRecord
from parity.deploy.deployments_direct import current_deployments
from parity.registry.listing_direct import model_versions, registered_models
from parity.store.meta import summary_direct
from parity.store.meta.direct import open_direct_sqlite
from parity.store.meta.errors import sqlite_error
from parity.tracking.reads_direct import DirectRunReader
from parity.tracking.view_rows import load_code
from parity.workspace import OBJECTS_DIR, Workspace

if TYPE_CHECKING:
    from parity.core.deployment import Deployment
    from parity.core.model import ModelVersion

_SQLITE_PREFIX = "sqlite:///"
# Characters SQLAlchemy's URL parser reads specially (or spells differently when it prints the
# URL, as ``parity status`` shows it): a path holding any goes through the store.
_SPECIAL = frozenset("?#%@:")


def sqlite_file(workspace: Workspace) -> Path | None:
    """The file of the workspace's SQLite metadata database, when it has one of its own."""
    if workspace.server_url is not None:
        return None
    url = workspace.metadata_url
    if not url.startswith(_SQLITE_PREFIX):
        return None
    path = url[len(_SQLITE_PREFIX) :]
    if not path or _SPECIAL & set(path):
        return None
    return Path(path)


class DirectReads:
    """The reads of one API call over a ``sqlite3`` connection to the workspace's database."""

    def __init__(self, workspace: Workspace, connection: sqlite3.Connection) -> None:
        self.workspace = workspace
        self.connection = connection

    @cached_property
    def runs(self) -> DirectRunReader:
        return DirectRunReader(self.connection, self._code)

    def model_versions(self, name: str) -> list[ModelVersion]:
        return model_versions(self.connection, name)

    def registered_models(self) -> list[dict[str, Any]]:
        return registered_models(self.connection)

    def current_deployments(
        self, name: str | None = None, place: str | None = None
    ) -> list[Deployment]:
        return current_deployments(self.connection, name, place)

    def stores(self) -> dict[str, Any]:
        """What ``parity status`` says of the stores: as ``api.workspace`` reads it from them."""
        models = self.registered_models()
        return {
            "metadata": {
                "url": self.workspace.metadata_url,
                "dialect": "sqlite",
                "schema": ",".join(summary_direct.schema_revisions(self.connection)),
            },
            "objects": {"url": self._objects_url()},
            "records": summary_direct.count_records(self.connection),
            "runs": self.runs.count_by_status(),
            "models": [
                {"name": m["name"], "latest_version": m["latest_version"], "aliases": m["aliases"]}
                for m in models
            ],
        }

    def _objects_url(self) -> str:
        """The object store's URL; the default folder's without opening the store (status
        reads nothing there)."""
        if self.workspace.config.objects_url is None:
            return (self.workspace.parity_dir / OBJECTS_DIR).as_uri()
        return self.workspace.objects.url

    def _code(self, code_id: str) -> Any:
        # The object store is opened for the first run that has a code record, not before.
        objects = self.workspace.objects
        return load_code(code_id, self._get_record, objects.url)

    def _get_record(self, record_id: str) -> StoredRecord:
        return self.workspace.objects.get_record(record_id)


@contextmanager
def direct_reads(workspace: Workspace) -> Iterator[DirectReads | None]:
    """``DirectReads`` of the workspace's database for the block, or None: use the stores."""
    path = sqlite_file(workspace)
    connection = None if path is None else open_direct_sqlite(path)
    if connection is None:
        yield None
        return
    try:
        yield DirectReads(workspace, connection)
    except sqlite3.Error as exc:
        raise sqlite_error(exc, workspace.metadata_url) from exc
    finally:
        connection.close()
