"""Requests whose cost the caller picks (drift over ranges of logged inputs): how many run at
once, and how such a request learns that its client went away.

A drift view reads and compares rows for seconds; without a bound a reader holding the reload
key, or a script dropping its requests after a second, fills the server's thread pool and
every other request waits. Each process runs at most ``per_user`` of them per user and
``in_all`` in total; the gate answers more with 429 (that user's share is used) or 503 (the
server's is) and ``Retry-After``. A slot is held until the computation ends, even when its
client left: a thread cannot be stopped from outside, so the computation checks
``DISCONNECTED_STATE`` between steps and stops itself.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parity.ui.page import DISCONNECTED_STATE

# Seconds a refused caller should wait: about what one drift view takes.
RETRY_AFTER_S = 5


@dataclass
class CostlyLimiter:
    per_user: int
    in_all: int
    running: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def take(self, user: str) -> int | None:
        """Take a slot for ``user``: None when taken, else the refusal's status (429 when
        ``user`` runs its share, 503 when the server runs its)."""
        with self.lock:
            if self.running.get(user, 0) >= self.per_user:
                return 429
            if sum(self.running.values()) >= self.in_all:
                return 503
            self.running[user] = self.running.get(user, 0) + 1
            return None

    def give_back(self, user: str) -> None:
        with self.lock:
            left = self.running.get(user, 0) - 1
            if left > 0:
                self.running[user] = left
            else:
                self.running.pop(user, None)


async def run_watched(app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Run ``app`` for a body-less request while watching for its client's disconnect, which
    sets the ``threading.Event`` at ``scope["state"][DISCONNECTED_STATE]`` (readable from the
    worker thread the handler runs in)."""
    gone = threading.Event()
    scope.setdefault("state", {})[DISCONNECTED_STATE] = gone
    body_sent = False

    async def app_receive() -> Message:
        # The request has no body to read: the app gets an empty one, then waits for the end.
        nonlocal body_sent
        if not body_sent:
            body_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        while not gone.is_set():
            await anyio.sleep(0.1)
        return {"type": "http.disconnect"}

    async def watch() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                gone.set()
                return

    async with anyio.create_task_group() as group:
        group.start_soon(watch)
        try:
            await app(scope, app_receive, send)
        finally:
            group.cancel_scope.cancel()
