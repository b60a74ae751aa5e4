"""Requests to every declared route, built from the route table: a route added to it is covered
by the generic security tests without touching them."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlsplit

import httpx

from parity.core.roles import Role
from parity.server.route_table import ROUTES
from parity.server.routing import PUBLIC, Route

PARAMETER = re.compile(r"\{([^}:]+)(?::[^}]*)?\}")
# A value for every path parameter: well-formed for no id and no name of a fresh server.
MADE_UP = "madeup0123456789abcdef"

NON_PUBLIC = tuple(route for route in ROUTES if route.access is not PUBLIC)
WRITES = tuple(route for route in ROUTES if route.writes)


def route_id(route: Route) -> str:
    return f"{route.method} {route.full_path}"


def parameters(route: Route) -> list[str]:
    return PARAMETER.findall(route.path)


def concrete_path(route: Route, values: dict[str, str] | None = None) -> str:
    """The route's full path with each parameter filled in (``MADE_UP`` unless given)."""
    given = values or {}
    return PARAMETER.sub(lambda m: given.get(m.group(1), MADE_UP), route.full_path)


def body_type(route: Route) -> str:
    return "application/octet-stream" if route.raw_body else "application/json"


def send(
    base_url: str,
    route: Route,
    token: str | None,
    path: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """One well-typed request to ``route`` (an empty JSON object, or no bytes, as its body)."""
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"Bearer {token}"
    content = None
    if route.writes:
        content = b"" if route.raw_body else b"{}"
        sent.setdefault("Content-Type", body_type(route))
    return httpx.request(
        route.method, base_url + (path or concrete_path(route)), content=content, headers=sent
    )


def send_raw(
    base_url: str,
    method: str,
    target: str,
    headers: dict[str, str],
    body: bytes = b"",
) -> tuple[int, bytes]:
    """A request whose target and headers go out exactly as given (no normalisation of
    ``..`` or of percent escapes, a Content-Length that need not match the body)."""
    where = urlsplit(base_url)
    connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders(body or None)
        answer = connection.getresponse()
        return answer.status, answer.read()
    finally:
        connection.close()


def roles_below(needed: Role) -> list[Role]:
    return [role for role in Role if role < needed]
