"""Which runs reproduced which, kept by a Parity server, over HTTP."""

from __future__ import annotations

from collections.abc import Sequence

from parity.repro.store import Reproduction
from parity.store.http.client import ServerClient, segment

__all__ = ["RemoteReproductions"]


class RemoteReproductions:
    def __init__(self, server: ServerClient) -> None:
        self.server = server

    def record(self, reproduction: Reproduction) -> None:
        # A run reproduces one run once: sending the same row again changes nothing.
        self.server.post(
            f"/runs/{segment(reproduction.original_id)}/reproductions",
            {
                "run_id": reproduction.run_id,
                "verdict": reproduction.verdict,
                "report": reproduction.report_digest,
                "created_ms": reproduction.created_ms,
            },
            retry=True,
        )

    def of(self, original_ids: Sequence[str]) -> list[Reproduction]:
        found: list[Reproduction] = []
        for original in original_ids:
            found += [
                Reproduction(
                    r["run_id"], r["original_id"], r["verdict"], r["report"], int(r["created_ms"])
                )
                for r in self.server.get(f"/runs/{segment(original)}/reproductions")
            ]
        return sorted(found, key=lambda r: (r.created_ms, r.run_id))
