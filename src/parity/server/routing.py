"""A route's declaration: method, path, the role it needs, and its handler.

Every route of the API is one ``Route`` in some ``routes_*`` module; ``route_table.ROUTES``
gathers them. Nothing else adds routes to the app, so a route the table does not declare does
not exist, and the gate refuses it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from parity.core.roles import Role, Scope

API_PREFIX = "/api/v1"
# The largest JSON body a route takes unless its declaration says otherwise.
DEFAULT_MAX_BODY = 16 << 20


class Public(enum.Enum):
    """The access of the routes that need no token (health, the OpenAPI description)."""

    PUBLIC = "public"


PUBLIC = Public.PUBLIC


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # under API_PREFIX, with {parameters}
    access: Role | Public
    endpoint: Callable[..., Any]
    summary: str
    # A grant on this scope, named by this path parameter, raises the caller's role here.
    scope: tuple[Scope, str] | None = None
    max_body: int = DEFAULT_MAX_BODY
    # Raw bytes (an object upload), not JSON.
    raw_body: bool = False
    response_model: Any = None
    status_code: int = 200
    # The class of the responses it sends when they are not JSON (e.g. an object's bytes), so
    # the OpenAPI description names their media type.
    response_class: Any = None
    # A web UI page (``parity.ui``): served at its own path, not under API_PREFIX, signed in by
    # the session cookie, its forms posted as application/x-www-form-urlencoded (CSRF-checked
    # by the page), and left out of the API's description.
    page: bool = False
    # A computation whose size the caller picks (drift over ranges of logged inputs): the gate
    # runs at most a few at once, per user and overall (``server.costly``), and tells it when
    # its client went away.
    costly: bool = False

    @property
    def full_path(self) -> str:
        return self.path if self.page else API_PREFIX + self.path

    @property
    def name(self) -> str:
        return self.endpoint.__name__

    @property
    def writes(self) -> bool:
        return self.method in {"POST", "PUT", "PATCH", "DELETE"}
