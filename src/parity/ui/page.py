"""A page's declaration, as the server's route table takes it (``server.route_table``), and
what a page's handler may ask for: the served workspace, the signed-in viewer, a checked form."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import Depends, Request
from fastapi import Path as PathParameter

from parity.accounts.store import Accounts
from parity.core.errors import UsageError
from parity.core.roles import Principal, Role, Scope
from parity.core.run import EXPERIMENT_PATTERN
from parity.registry.repository import NAME_PATTERN
from parity.ui.session import CSRF_FIELD, CSRF_HEADER, check_csrf
from parity.workspace import Workspace

# The scope state key of the ``threading.Event`` the gate sets once a costly page's browser
# went away (``server.costly``), so the page's handler can stop early.
DISCONNECTED_STATE = "disconnected"
# The largest form a page takes.
MAX_FORM = 64 << 10


@dataclass(frozen=True)
class Page:
    method: str
    path: str
    access: Role | None  # None: anyone (the sign-in page, static files)
    endpoint: Callable[..., Any]
    summary: str
    scope: tuple[Scope, str] | None = None
    costly: bool = False  # see ``server.routing.Route.costly``


def _workspace(request: Request) -> Workspace:
    found: Workspace = request.app.state.context.workspace
    return found


def _accounts(request: Request) -> Accounts:
    found: Accounts = request.app.state.context.accounts
    return found


def _viewer(request: Request) -> Principal | None:
    found: Principal | None = request.scope.get("state", {}).get("principal")
    return found


def _signed_in(request: Request) -> Principal:
    found = _viewer(request)
    if found is None:  # the gate admits no one without a principal to a page with a role
        raise UsageError("not signed in", hint="sign in first")
    return found


async def _form(request: Request) -> dict[str, str]:
    """The posted form, once its CSRF token matched the browser's cookie."""
    body = await request.body()
    if len(body) > MAX_FORM:
        raise UsageError("the form is too large", hint="send less")
    fields = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    check_csrf(request, fields.pop(CSRF_FIELD, None) or request.headers.get(CSRF_HEADER))
    return fields


WorkspaceOf = Annotated[Workspace, Depends(_workspace)]
AccountsOf = Annotated[Accounts, Depends(_accounts)]
Viewer = Annotated[Principal | None, Depends(_viewer)]
SignedIn = Annotated[Principal, Depends(_signed_in)]
Form = Annotated[dict[str, str], Depends(_form)]

# Path parameters, validated as the API's are: nothing a page is given names a file.
ExperimentName = Annotated[str, PathParameter(pattern=EXPERIMENT_PATTERN, max_length=200)]
RunReference = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{4,32}$")]  # an id or its prefix
ModelName = Annotated[str, PathParameter(pattern=NAME_PATTERN)]
EnvironmentReference = Annotated[str, PathParameter(pattern=r"^[0-9a-f]{4,64}$")]
