"""Exports filed under model versions: every file ``parity deploy export`` wrote, kept as a blob
and listed in a ``deploy_export`` record, so the manifests are part of the version's lineage.

The record and its blobs go wherever the workspace keeps records; the filing (which version an
export belongs to, when and by whom) is a row of the metadata database, written directly
(``ExportFiling``) or through a server (``deploy.remote.RemoteExportFiling``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import select

from parity.core.deployment import DeployExport, ExportedFile
from parity.store.meta.deploy_tables import model_exports
from parity.store.meta.store import MetadataStore, insert_ignoring_duplicates
from parity.store.records import RecordStore


@dataclass(frozen=True)
class Filing:
    """An export record filed under a model version: when and by whom it was first filed."""

    name: str
    version: int
    export_id: str
    target: str
    created_ms: int
    created_by: str


@dataclass(frozen=True)
class FiledExport:
    """An export record and when and by whom it was first made."""

    id: str
    export: DeployExport
    created_ms: int
    created_by: str


class Filings(Protocol):
    def file(self, filing: Filing) -> None:
        """File an export (filing the same export again changes nothing)."""
        ...

    def of_version(self, name: str, version: int) -> list[Filing]:
        """The filings of ``name/version``, oldest first."""
        ...


class ExportFiling:
    """Filings in the metadata database."""

    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    def file(self, filing: Filing) -> None:
        row = {
            "name": filing.name,
            "version": filing.version,
            "export_id": filing.export_id,
            "target": filing.target,
            "created_ms": filing.created_ms,
            "created_by": filing.created_by,
        }
        with self.meta.write() as connection:
            insert_ignoring_duplicates(connection, model_exports, [row])

    def of_version(self, name: str, version: int) -> list[Filing]:
        query = (
            select(model_exports)
            .where(model_exports.c.name == name, model_exports.c.version == version)
            .order_by(model_exports.c.created_ms, model_exports.c.export_id)
        )
        with self.meta.read() as connection:
            rows = connection.execute(query).all()
        return [
            Filing(r.name, r.version, r.export_id, r.target, r.created_ms, r.created_by)
            for r in rows
        ]


class ExportLog:
    def __init__(self, records: RecordStore, filings: Filings, clock: Callable[[], int]) -> None:
        self.records = records
        self.filings = filings
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
        self.filings.file(Filing(filed.name, filed.version, export_id, filed.target, now, actor))
        return export_id

    def of_version(self, name: str, version: int) -> list[FiledExport]:
        """The exports of ``name/version``, oldest first."""
        return [
            FiledExport(
                f.export_id,
                DeployExport.from_record(self.records.get(f.export_id)),
                f.created_ms,
                f.created_by,
            )
            for f in self.filings.of_version(name, version)
        ]
