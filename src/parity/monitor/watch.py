"""Run a model's checks on a schedule: the loop of ``parity monitor watch``.

Each tick runs the checks it is handed and reports what they found; ticks start ``every_s``
apart (a slow tick is not made up for by a burst: the next starts ``every_s`` after the last
one began, or at once if that has passed). Sleeping and the clock are injected, so the loop is
tested without waiting; ``once`` runs a single tick (cron, tests).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["WatchAlert", "WatchTick", "run_schedule"]


@dataclass(frozen=True)
class WatchAlert:
    """One check that found something: the event kind, a one-line summary and the event."""

    kind: str
    summary: str
    event_id: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "summary": self.summary,
            "event_id": self.event_id,
            "data": dict(self.data),
        }


@dataclass(frozen=True)
class WatchTick:
    """What one tick did: the checks run (name → a short outcome), the alerts, and the exit
    code of the on-alert command (None: not run)."""

    time_ms: int
    checks: Mapping[str, str]
    alerts: tuple[WatchAlert, ...] = ()
    command_exit: int | None = None
    command_error: str | None = None

    @property
    def alerted(self) -> bool:
        return bool(self.alerts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time_ms": self.time_ms,
            "checks": dict(self.checks),
            "alerts": [a.to_dict() for a in self.alerts],
            "command_exit": self.command_exit,
            "command_error": self.command_error,
        }


def run_schedule(
    tick: Callable[[], WatchTick],
    every_s: float,
    once: bool = False,
    on_tick: Callable[[WatchTick], None] = lambda _: None,
    sleep: Callable[[float], None] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> list[WatchTick]:
    """Run ``tick`` now and then every ``every_s`` seconds until interrupted (KeyboardInterrupt
    propagates: the caller ends cleanly); with ``once``, one tick. Returns the ticks run."""
    ticks: list[WatchTick] = []
    while True:
        started = monotonic()
        done = tick()
        ticks.append(done)
        on_tick(done)
        if once:
            return ticks
        sleep(max(0.0, started + every_s - monotonic()))
