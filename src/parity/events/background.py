"""A server's delivery thread: sends the events its requests staged, without holding them.

A staged event wakes the thread; it waits a moment (the request's transaction commits after
staging) and runs delivery rounds, then sleeps until the next retry is due or ``poll_s`` passes,
so events left by a process that stopped, or by another replica, are sent too. The thread
starts on the first wake-up and stops with the server.
"""

from __future__ import annotations

import logging
import threading

from parity.core.errors import ParityError
from parity.events.delivery import deliver_round
from parity.events.outbox import EventOutbox

__all__ = ["DeliveryThread"]

_log = logging.getLogger("parity.events")
SETTLE_S = 0.2  # time for the staging request's transaction to commit


class DeliveryThread:
    def __init__(self, outbox: EventOutbox, poll_s: float = 30.0) -> None:
        self.outbox = outbox
        self.poll_s = poll_s
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        """Deliver soon (an event was staged, or the server started)."""
        with self._lock:
            if self._stop.is_set():
                return
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="parity-event-delivery", daemon=True
                )
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        wait_s = 0.0
        while not self._stop.is_set():
            self._wake.wait(wait_s)
            if self._stop.is_set():
                return
            kicked = self._wake.is_set()
            if kicked:
                self._wake.clear()
                self._stop.wait(SETTLE_S)
            # After a wake-up, look again soon: a slow transaction may commit after this round.
            wait_s = 1.0 if kicked else self.poll_s
            try:
                done = deliver_round(self.outbox)
            except ParityError as exc:  # the database is away: the rows wait for it
                _log.warning("event delivery round failed: %s", exc.message)
                continue
            if done.next_due_ms is not None:
                wait_s = min(wait_s, max(0.05, (done.next_due_ms - self.outbox.clock()) / 1000))

    def stop(self) -> None:
        with self._lock:
            self._stop.set()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=10)
