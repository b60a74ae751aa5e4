"""Events and webhooks a Parity server keeps, over HTTP: an ``EventLedger`` like the outbox.

The server stages and delivers the events of the changes it makes; a client only reports the
outcome of a check it ran itself (a drift alert), under an id it chose, so a retried report is
still one event.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any

from parity.core.events import Event, EventDeliveries, Webhook
from parity.events.outbox import new_event_id
from parity.store.http.client import ServerClient, segment

__all__ = ["RemoteEvents"]


class RemoteEvents:
    def __init__(self, server: ServerClient, clock: Any) -> None:
        self.server = server
        self.clock = clock

    def emit(
        self, kind: str, data: Mapping[str, Any], actor: str, event_id: str | None = None
    ) -> Event:
        # The server records the caller as the actor; the id makes a retried report harmless.
        body = {"id": event_id or new_event_id(self.clock()), "kind": kind, "data": dict(data)}
        return Event.from_dict(self.server.post("/events", body, retry=True))

    def list(
        self, kind: str | None = None, failed: bool = False, limit: int = 50
    ) -> builtins.list[EventDeliveries]:
        params: dict[str, Any] = {"failed": "true" if failed else "false", "limit": limit}
        if kind is not None:
            params["kind"] = kind
        return [EventDeliveries.from_dict(e) for e in self.server.get("/events", params=params)]

    def add_hook(self, url: str, kinds: tuple[str, ...], secret_env: str, actor: str) -> Webhook:
        body = {"url": url, "kinds": list(kinds), "secret_env": secret_env}
        return Webhook.from_dict(self.server.post("/events/hooks", body))

    def hooks(self) -> builtins.list[Webhook]:
        return [Webhook.from_dict(h) for h in self.server.get("/events/hooks")]

    def remove_hook(self, hook_id: str) -> Webhook:
        return Webhook.from_dict(self.server.delete(f"/events/hooks/{segment(hook_id)}"))
