"""What a handler may ask FastAPI for: the process's context, and the caller the gate admitted."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from parity.core.roles import Principal, Role
from parity.registry.versions import Actor
from parity.server.context import ServerContext


def context(request: Request) -> ServerContext:
    found: ServerContext = request.app.state.context
    return found


def caller(request: Request) -> Principal:
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    if principal is None:  # a public route's handler asked for a caller: anonymous reader
        return Principal(user="anonymous", role=Role.READER)
    return principal


def actor(request: Request) -> Actor:
    """The caller as the registry knows actors: admins may unlock and force."""
    principal = caller(request)
    return Actor(name=principal.user, admin=principal.role >= Role.ADMIN)


Context = Annotated[ServerContext, Depends(context)]
Caller = Annotated[Principal, Depends(caller)]
Acting = Annotated[Actor, Depends(actor)]
