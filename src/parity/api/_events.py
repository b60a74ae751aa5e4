"""Send what a command staged before it returns: the outbox's events, delivered right after the
change with a short budget, so webhooks hear of it at once and the command is never held long.
What is not delivered in time stays in the outbox for the next delivery (``parity events
deliver``, the next change, ``monitor watch``, or a server's delivery thread)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from parity.core.errors import ParityError
from parity.workspace import Workspace

# How long a command may spend delivering its events after its change (a retry due sooner is
# waited for; each request's own timeout is shorter).
INLINE_BUDGET_S = 5.0

_log = logging.getLogger("parity.events")


def deliver_staged(
    workspace: Workspace, budget_s: float = INLINE_BUDGET_S, pending_too: bool = False
) -> None:
    """Deliver what this process staged in ``workspace`` (``pending_too``: and whatever else is
    due), within ``budget_s``. A server's own workspace is left alone: its delivery thread
    sends, so the request is not held; a client of a server has nothing to deliver."""
    if workspace.embedded or workspace.server_url is not None:
        return
    outbox = workspace.outbox if pending_too else workspace.__dict__.get("outbox")
    if outbox is None or not (outbox.staged or pending_too):
        return
    outbox.staged = 0
    from parity.events.delivery import deliver  # lazy: only when an event was staged

    try:
        deliver(outbox, budget_s)
    except ParityError as exc:  # the change is made; its event waits in the outbox
        _log.warning("events not delivered now (%s); run 'parity events deliver'", exc.message)


def report_alert(workspace: Workspace, kind: str, data: Mapping[str, Any]) -> str | None:
    """Emit a check's alert and deliver it; the event's id, or None when it could not be kept
    (a reader's token may not report to a server): the check's own result stands either way."""
    try:
        event = workspace.events.emit(kind, data, workspace.actor().name)
    except ParityError as exc:
        _log.warning("the %s event was not recorded: %s", kind, exc.message)
        return None
    deliver_staged(workspace)
    return event.id
