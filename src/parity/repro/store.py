"""Which runs reproduced which: rows of the ``reproductions`` table, written once per repro."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select

from parity.store.meta.repro_tables import reproductions
from parity.store.meta.store import MetadataStore


@dataclass(frozen=True)
class Reproduction:
    """One repro: the run that re-derived a run, its verdict, and where its report is."""

    run_id: str  # the reproducing run
    original_id: str
    verdict: str
    report_digest: str
    created_ms: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "original_id": self.original_id,
            "verdict": self.verdict,
            "report": self.report_digest,
            "created_ms": self.created_ms,
        }


def record_reproduction(meta: MetadataStore, reproduction: Reproduction) -> None:
    row = {
        "run_id": reproduction.run_id,
        "original_id": reproduction.original_id,
        "verdict": reproduction.verdict,
        "report_digest": reproduction.report_digest,
        "created_ms": reproduction.created_ms,
    }
    meta.transact(lambda connection: connection.execute(insert(reproductions).values(row)))


def reproductions_of(meta: MetadataStore, original_ids: Sequence[str]) -> list[Reproduction]:
    """Every reproduction of the runs ``original_ids``, oldest first."""
    if not original_ids:
        return []
    columns = reproductions.c
    query = (
        select(reproductions)
        .where(columns.original_id.in_(list(original_ids)))
        .order_by(columns.created_ms, columns.run_id)
    )
    with meta.read() as connection:
        return [
            Reproduction(r.run_id, r.original_id, r.verdict, r.report_digest, r.created_ms)
            for r in connection.execute(query)
        ]
