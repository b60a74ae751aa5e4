"""Which runs reproduced which: rows of the ``reproductions`` table, written once per repro."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Connection, insert, select

from parity.core.errors import ConflictError
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


class Reproductions(Protocol):
    """Which runs reproduced which, embedded (``ReproductionLog``) or through a server
    (``repro.remote.RemoteReproductions``); the workspace hands out one or the other."""

    def record(self, reproduction: Reproduction) -> None: ...

    def of(self, original_ids: Sequence[str]) -> list[Reproduction]:
        """Every reproduction of the runs ``original_ids``, oldest first."""
        ...


class ReproductionLog:
    """Reproductions in the metadata database."""

    def __init__(self, meta: MetadataStore) -> None:
        self.meta = meta

    def record(self, reproduction: Reproduction) -> None:
        """Keep a reproduction; the same one again changes nothing, another verdict for the same
        reproducing run is refused."""
        row = {
            "run_id": reproduction.run_id,
            "original_id": reproduction.original_id,
            "verdict": reproduction.verdict,
            "report_digest": reproduction.report_digest,
            "created_ms": reproduction.created_ms,
        }

        def act(connection: Connection) -> None:
            kept = connection.execute(
                select(reproductions).where(reproductions.c.run_id == reproduction.run_id)
            ).first()
            if kept is None:
                connection.execute(insert(reproductions).values(row))
            elif {**kept._asdict(), "created_ms": None} != {**row, "created_ms": None}:
                # A retry may carry another time (a server dates each request): it is the same.
                raise ConflictError(
                    f"run {reproduction.run_id[:8]} already reproduced "
                    f"{kept.original_id[:8]} ({kept.verdict})",
                    hint="a run reproduces one run once: start a new repro",
                )

        self.meta.transact(act)

    def of(self, original_ids: Sequence[str]) -> list[Reproduction]:
        if not original_ids:
            return []
        columns = reproductions.c
        query = (
            select(reproductions)
            .where(columns.original_id.in_(list(original_ids)))
            .order_by(columns.created_ms, columns.run_id)
        )
        with self.meta.read() as connection:
            return [
                Reproduction(r.run_id, r.original_id, r.verdict, r.report_digest, r.created_ms)
                for r in connection.execute(query)
            ]
