"""Exports filed under model versions: every file ``parity deploy export`` wrote, kept as a blob
and listed in a ``deploy_export`` record, so the manifests are part of the version's lineage."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from parity.core.deployment import DeployExport, ExportedFile
from parity.core.errors import UsageError
from parity.store.meta.deploy_tables import model_exports
from parity.store.meta.store import MetadataStore, insert_ignoring_duplicates
from parity.store.records import RecordStore


def _database(records: RecordStore) -> MetadataStore:
    """The metadata store exports are filed in; a server's record index is not one (filing
    exports through a server has no route yet)."""
    if not isinstance(records.meta, MetadataStore):
        raise UsageError(
            "deploy exports are filed in the metadata database, which a workspace using a "
            "server does not reach yet",
            hint="run 'parity deploy export' on the server host, or unset PARITY_SERVER_URL",
        )
    return records.meta


@dataclass(frozen=True)
class FiledExport:
    """An export record and when and by whom it was first made."""

    id: str
    export: DeployExport
    created_ms: int
    created_by: str


class ExportLog:
    def __init__(self, records: RecordStore, clock: Callable[[], int]) -> None:
        self.records = records
        self.clock = clock

    def file(self, export: DeployExport, contents: Mapping[str, bytes], actor: str) -> str:
        """Store every file's content and the record, and file it under its model version."""
        files = tuple(
            ExportedFile(path, self.records.objects.put_bytes(content), len(content))
            for path, content in sorted(contents.items())
        )
        filed = DeployExport(
            export.name,
            export.version,
            export.model_id,
            export.target,
            export.image,
            files,
            export.environment_id,
            export.run_id,
            export.data_versions,
        )
        now = self.clock()
        export_id = self.records.put(filed.to_record(), now, label=f"{filed.ref} {filed.target}")
        row = {
            "name": filed.name,
            "version": filed.version,
            "export_id": export_id,
            "target": filed.target,
            "created_ms": now,
            "created_by": actor,
        }
        with _database(self.records).write() as connection:
            insert_ignoring_duplicates(connection, model_exports, [row])
        return export_id

    def of_version(self, name: str, version: int) -> list[FiledExport]:
        """The exports of ``name/version``, oldest first."""
        query = (
            select(model_exports)
            .where(model_exports.c.name == name, model_exports.c.version == version)
            .order_by(model_exports.c.created_ms, model_exports.c.export_id)
        )
        with _database(self.records).read() as connection:
            rows = connection.execute(query).all()
        return [
            FiledExport(
                row.export_id,
                DeployExport.from_record(self.records.get(row.export_id)),
                row.created_ms,
                row.created_by,
            )
            for row in rows
        ]
