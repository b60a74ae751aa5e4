"""Routes of events: the event log with its deliveries (readers), reported alerts (writers) and
webhooks (admins).

The server stages the events of the changes it makes itself and its delivery thread sends
them, so a client never sends one twice. A client may report only the outcome of a check it ran
(a drift or performance alert), under an id it chose: the same id again is the same event.
Hooks name the variable of the *server's* environment that holds their secret.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from parity.core import events as core
from parity.core.errors import UsageError
from parity.core.roles import Role
from parity.server.dependencies import Caller, Context
from parity.server.routing import Route

KIND_PATTERN = r"^[a-z]+\.[a-z_]+$"
HOOK_PATTERN = r"^hook_[0-9a-f]{12}$"
EVENT_ID_PATTERN = r"^evt_[0-9a-f]{32}$"
DATA_LENGTH = 64 << 10


class EventBody(BaseModel):
    """An event as webhooks receive it, with who caused it."""

    id: str
    kind: str
    time: int = Field(description="Milliseconds since the epoch")
    data: dict[str, Any]
    actor: str | None


class AttemptBody(BaseModel):
    """One try at sending an event to a webhook."""

    event_id: str
    hook_id: str
    url: str = Field(
        description="The hook's URL for admins; scheme and host only for others (a URL may carry"
        " a token)"
    )
    attempt: int
    time_ms: int
    ok: bool
    status: int | None
    error: str | None


class EventLogBody(EventBody):
    """An event with every attempt to deliver it."""

    failed: bool
    deliveries: list[AttemptBody]


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    id: str = Field(
        pattern=EVENT_ID_PATTERN, description="Chosen by the reporter: a retry is one event"
    )
    kind: str = Field(pattern=KIND_PATTERN)
    data: dict[str, Any]


class HookBody(BaseModel):
    """A webhook: where events of some kinds go, and the server variable holding its secret."""

    id: str
    url: str
    kinds: list[str]
    secret_env: str
    created_ms: int
    created_by: str


class HookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    url: str = Field(max_length=2000, pattern=r"^https?://\S+$")
    kinds: list[str] = Field(min_length=1, max_length=len(core.KINDS) + 1)
    secret_env: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")


def list_events(
    ctx: Context,
    principal: Caller,
    kind: Annotated[str | None, Query(pattern=KIND_PATTERN)] = None,
    failed: bool = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[EventLogBody]:
    """Events newest first with their delivery attempts (``failed``: only those a webhook has
    not received after a try)."""
    found = [e.to_dict() for e in ctx.workspace.outbox.list(kind, failed, limit)]
    if not principal.may(Role.ADMIN):  # hook URLs are the admins' to see (GET /events/hooks)
        for event in found:
            for attempt in event["deliveries"]:
                attempt["url"] = origin_of(attempt["url"])
    return [EventLogBody.model_validate(e) for e in found]


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL: no user, password, path or query (any may be a
    secret)."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{parts.scheme}://{host}" + (f":{port}" if port else "")


def report_event(ctx: Context, principal: Caller, request: ReportRequest) -> EventBody:
    """Report an alert a client's check found; the server delivers it."""
    if request.kind not in core.REPORTED_KINDS:
        raise UsageError(
            f"a client may not report {request.kind!r} events",
            hint=f"only {', '.join(core.REPORTED_KINDS)}: the server emits the others itself",
        )
    if len(repr(request.data)) > DATA_LENGTH:
        raise UsageError("the event's data is too large", hint="keep it under 64 KiB")
    event = ctx.workspace.outbox.emit(request.kind, request.data, principal.user, request.id)
    return EventBody.model_validate(event.to_dict())


def list_hooks(ctx: Context) -> list[HookBody]:
    """The webhooks, oldest first."""
    return [HookBody.model_validate(h.to_dict()) for h in ctx.workspace.outbox.hooks()]


def add_hook(ctx: Context, principal: Caller, request: HookRequest) -> HookBody:
    """Send events of some kinds to a URL, signed with a secret from the server's environment."""
    hook = ctx.workspace.outbox.add_hook(
        request.url, core.check_kinds(request.kinds), request.secret_env, principal.user
    )
    return HookBody.model_validate(hook.to_dict())


def remove_hook(ctx: Context, hook_id: Annotated[str, Path(pattern=HOOK_PATTERN)]) -> HookBody:
    """Stop sending to a webhook (its delivery log stays)."""
    return HookBody.model_validate(ctx.workspace.outbox.remove_hook(hook_id).to_dict())


R, W, A = Role.READER, Role.WRITER, Role.ADMIN

ROUTES = (
    Route("GET", "/events", R, list_events, "List events and their deliveries",
          response_model=list[EventLogBody]),
    Route("POST", "/events", W, report_event, "Report an alert found by a check",
          response_model=EventBody, max_body=DATA_LENGTH + 4096),
    Route("GET", "/events/hooks", A, list_hooks, "List webhooks", response_model=list[HookBody]),
    Route("POST", "/events/hooks", A, add_hook, "Add a webhook", response_model=HookBody),
    Route("DELETE", "/events/hooks/{hook_id}", A, remove_hook, "Remove a webhook",
          response_model=HookBody),
)  # fmt: skip
