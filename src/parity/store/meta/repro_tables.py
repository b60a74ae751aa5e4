"""Reproductions: which run re-derived which, with what verdict, and where its report is.

A reproduction is itself a run (the re-run, recorded like any other); this table links it to the
run it reproduced, so the original's page, its model's ``models show`` and lineage can say
whether and how it reproduced, and a gate can ask for the last verdict.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, Index, String, Table

from parity.core.references import Target
from parity.store.meta.schema import ColumnReference, metadata

reproductions = Table(
    "reproductions",
    metadata,
    Column("run_id", String(32), primary_key=True),  # the reproducing run
    Column("original_id", String(32), nullable=False),  # the run it reproduced
    Column("verdict", String(32), nullable=False),  # identical | within tolerance | different …
    Column("report_digest", String(64), nullable=False),  # the report's canonical JSON, a blob
    Column("created_ms", BigInteger, nullable=False),
    Index("ix_reproductions_original", "original_id", "created_ms"),
)

REFERENCE_COLUMNS = (
    ColumnReference(reproductions.c.run_id, Target.RUN),
    ColumnReference(reproductions.c.original_id, Target.RUN),
    ColumnReference(reproductions.c.report_digest, Target.OBJECT),
)
PLAIN_COLUMNS: tuple[Column[Any], ...] = (reproductions.c.verdict,)
