"""Events: what happened in the registry, a monitor or a deployment, sent to webhooks, signed.

>>> parity.api.events.add_hook("https://ci.example/hooks/parity", ["model.alias_moved"],
...                            secret_env="PARITY_HOOK_SECRET")            # doctest: +SKIP
>>> [e.event.kind for e in parity.api.events.list(failed=True)]         # doctest: +SKIP

A receiver checks each payload with ``verify_signature`` and dedupes by the event's id (delivery
is at least once). docs/events.md has the payload, the headers and the recipe.
"""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from parity.api._events import deliver_staged
from parity.api._session import session
from parity.core import events as _core
from parity.core.errors import UsageError
from parity.core.events import (
    DEFAULT_TOLERANCE_S,
    KINDS,
    DeliveryAttempt,
    Event,
    EventDeliveries,
    Webhook,
)
from parity.workspace import Workspace

if TYPE_CHECKING:
    from parity.events.delivery import DeliveryRound

__all__ = [
    "KINDS",
    "DeliveryAttempt",
    "Event",
    "EventDeliveries",
    "Webhook",
    "add_hook",
    "deliver",
    "emit",
    "hooks",
    "list",
    "remove_hook",
    "sign",
    "verify_signature",
]


def verify_signature(
    secret: str,
    timestamp: int | str,
    body: bytes,
    signature: str,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> bool:
    """Whether a webhook payload is Parity's: ``signature`` (the ``Parity-Signature`` header)
    is the HMAC-SHA256 of ``"<timestamp>.<body>"`` under ``secret``, and ``timestamp`` (the
    ``Parity-Timestamp`` header, Unix seconds) is within ``tolerance_s`` of ``now`` (default:
    this machine's clock). Compare the raw body, before parsing it.

    >>> ok = parity.api.events.verify_signature(
    ...     secret, request.headers["Parity-Timestamp"], request.body,
    ...     request.headers["Parity-Signature"])                         # doctest: +SKIP
    """
    moment = time.time() if now is None else now
    return _core.check_signature(secret, timestamp, body, signature, moment, tolerance_s)


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Parity-Signature`` header of ``body`` signed at ``timestamp`` (what a test's
    sender, or a receiver's own check, computes).

    >>> parity.api.events.sign("s3cret", 1767225600, b"{}")   # doctest: +SKIP
    'v1=…'
    """
    return _core.signature(secret, timestamp, body)


def emit(kind: str, data: Mapping[str, Any], *, workspace: Workspace | None = None) -> Event:
    """Record an event of ``kind`` (one of ``KINDS``) and deliver it to the hooks that want
    it: the one-line seam for code that finds something worth telling (an alert, an approval).
    Against a server, only the monitor alerts may be reported; the server emits the rest itself.

    >>> parity.api.events.emit("monitor.performance_alert",
    ...                        {"model": "churn/3", "metric": "accuracy"})   # doctest: +SKIP
    """
    if kind not in KINDS:
        raise UsageError(f"unknown event kind {kind!r}", hint=f"use one of {', '.join(KINDS)}")
    with session(workspace) as ws:
        event = ws.events.emit(kind, data, ws.actor().name)
        deliver_staged(ws)
        return event


def list(
    kind: str | None = None,
    *,
    failed: bool = False,
    limit: int = 50,
    workspace: Workspace | None = None,
) -> builtins.list[EventDeliveries]:
    """Events newest first, each with every delivery attempt; ``failed``: only events a hook
    has not received after at least one try.

    >>> [(e.event.kind, len(e.attempts)) for e in parity.api.events.list()]   # doctest: +SKIP
    """
    with session(workspace) as ws:
        return ws.events.list(kind, failed, limit)


def add_hook(
    url: str,
    events: str | Iterable[str],
    *,
    secret_env: str,
    workspace: Workspace | None = None,
) -> Webhook:
    """Send events of the kinds ``events`` (``"*"``: all) to ``url``, signed with the secret in
    the environment variable ``secret_env`` of the process that delivers them (this one when
    embedded; the server's in team mode). Only the variable's name is stored.

    >>> parity.api.events.add_hook("https://ci.example/hook", "*",
    ...                            secret_env="PARITY_HOOK_SECRET")   # doctest: +SKIP
    """
    kinds = _core.check_kinds(events if isinstance(events, str) else tuple(events))
    with session(workspace) as ws:
        return ws.events.add_hook(url, kinds, secret_env, ws.actor().name)


def hooks(*, workspace: Workspace | None = None) -> builtins.list[Webhook]:
    """The webhooks, oldest first.

    >>> [h.url for h in parity.api.events.hooks()]   # doctest: +SKIP
    """
    with session(workspace) as ws:
        return ws.events.hooks()


def remove_hook(hook_id: str, *, workspace: Workspace | None = None) -> Webhook:
    """Stop sending to the webhook ``hook_id``; its delivery log stays.

    >>> parity.api.events.remove_hook("hook_0a1b2c3d4e5f")   # doctest: +SKIP
    """
    with session(workspace) as ws:
        return ws.events.remove_hook(hook_id)


def deliver(*, budget_s: float = 30.0, workspace: Workspace | None = None) -> DeliveryRound:
    """Send every delivery that is due (new events, retries whose backoff has passed), waiting
    for retries due within ``budget_s`` seconds. A server delivers its own events.

    >>> round = parity.api.events.deliver()   # doctest: +SKIP
    >>> len(round.delivered), len(round.failed)   # doctest: +SKIP
    """
    from parity.events.delivery import deliver as deliver_due  # lazy: only to deliver

    with session(workspace) as ws:
        if ws.server_url is not None:
            raise UsageError(
                f"the server {ws.server_url} delivers its events itself",
                hint="see how they went with 'parity events list'",
            )
        return deliver_due(ws.outbox, budget_s)
