"""The one door of every request: host check, route lookup in the table, authentication,
authorization, body rules, and the audit line of each accepted write; before any body is read.

A request that matches no declared route is refused here, so a route cannot be reached without
the role its declaration names: there is no route without a declaration.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from sqlalchemy import insert
from starlette.responses import Response
from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parity.core.errors import ParityError, UsageError
from parity.core.roles import Principal, Role
from parity.server.context import ServerContext
from parity.server.costly import RETRY_AFTER_S, run_watched
from parity.server.errors import (
    BodyTooLarge,
    Forbidden,
    Unauthenticated,
    error_response,
    json_error,
    status_of,
)
from parity.server.routing import API_PREFIX, PUBLIC, Route
from parity.store.meta.account_tables import write_log
from parity.ui.errors import error_page, login_redirect
from parity.ui.session import FORM_TYPE, SESSION_COOKIE, TLS_STATE

# Bodies a cross-site HTML form can send without a CORS preflight: never accepted on a write.
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data", "text/plain")
_PRINCIPAL_CACHE_S = 2.0
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class Gate:
    """ASGI middleware in front of the FastAPI app."""

    def __init__(
        self, app: ASGIApp, router: Router, routes: dict[Any, Route], context: ServerContext
    ) -> None:
        self.app = app
        self.router = router
        self.routes = routes  # endpoint -> declaration
        self.context = context
        self.hosts = context.settings.hosts()
        self.proxies = [
            ipaddress.ip_network(cidr, strict=False) for cidr in context.settings.trusted_proxies
        ]
        self._cache: dict[str, tuple[float, Principal | None]] = {}
        # Local mode (no users at start) lasts until the first user exists, which may be made
        # while the server runs ('parity server user create'); it never comes back after.
        self._local = context.settings.local_user is not None and context.settings.loopback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})[TLS_STATE] = self._tls(scope)
        route: Route | None = None
        try:
            route = self._route(scope)
            self._check_host(scope)
            self._check_origin(scope)
            principal = await self._admit(scope, route)
            self._check_body(scope, route)
        except ParityError as error:
            if route is not None and route.page:
                await _page_refusal(scope, error)(scope, receive, send)
                return
            await error_response(error)(scope, receive, send)
            return
        except _Refusal as refusal:
            if _wants_page(scope):
                await error_page(refusal.status, refusal.message, refusal.hint)(
                    scope, receive, send
                )
                return
            code = 3 if refusal.status == 404 else 2
            await json_error(refusal.status, refusal.message, code, refusal.hint)(
                scope, receive, send
            )
            return
        scope.setdefault("state", {})["principal"] = principal
        limited = _limited_receive(receive, route.max_body)
        if route.costly:
            await self._run_costly(route, principal, scope, limited, send)
            return
        if not route.writes:
            await self.app(scope, limited, send)
            return

        async def watch(message: Message) -> None:
            # Logged before the response starts: a client that saw its write accepted finds it
            # in the write log, whatever it asks next.
            if message["type"] == "http.response.start" and int(message["status"]) < 400:
                await anyio.to_thread.run_sync(
                    self._log_write, principal, scope["method"], scope["path"], message["status"]
                )
            await send(message)

        await self.app(scope, limited, watch)

    def _tls(self, scope: Scope) -> bool:
        """Whether the browser's connection is TLS (so cookies get Secure): the server says so
        (``--secure-cookies``), the request came over TLS, or a trusted proxy says the browser
        reached it over https (``X-Forwarded-Proto``, ``Forwarded: proto=``). From any other
        address those headers are not believed."""
        if self.context.settings.secure_cookies or scope.get("scheme") == "https":
            return True
        if not self.proxies or not self._from_proxy(scope):
            return False
        forwarded = (_header(scope, b"x-forwarded-proto") or "").split(",")[0].strip().lower()
        if forwarded == "https":
            return True
        first = (_header(scope, b"forwarded") or "").split(",")[0]
        pairs = (part.strip().partition("=") for part in first.split(";"))
        return any(k.lower() == "proto" and v.strip('"').lower() == "https" for k, _, v in pairs)

    def _from_proxy(self, scope: Scope) -> bool:
        try:
            client = ipaddress.ip_address((scope.get("client") or ("0.0.0.0", 0))[0])  # noqa: S104
        except ValueError:
            return False
        return any(client in network for network in self.proxies)

    async def _run_costly(
        self, route: Route, principal: Principal | None, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """A costly route within its caller's and the server's share (``server.costly``)."""
        user = principal.user if principal is not None else "-"
        refused = self.context.costly.take(user)
        if refused is not None:
            busy = _busy_response(refused, route.page or _wants_page(scope))
            await busy(scope, receive, send)
            return
        try:
            await run_watched(self.app, scope, receive, send)
        finally:
            self.context.costly.give_back(user)

    # the checks -----------------------------------------------------------------------------------
    def _route(self, scope: Scope) -> Route:
        allowed: list[str] = []
        for candidate in self.router.routes:
            match, child = candidate.matches(scope)
            declared = self.routes.get(getattr(candidate, "endpoint", None))
            if declared is None:  # not in the table: as if it did not exist
                continue
            if match is Match.FULL:
                scope["path_params"] = child.get("path_params", {})
                return declared
            if match is Match.PARTIAL:
                allowed.append(declared.method)
        if allowed:
            raise _Refusal(
                405, f"{scope['method']} is not allowed here", f"use {', '.join(sorted(allowed))}"
            )
        if _wants_page(scope):
            raise _Refusal(404, f"no such page: {scope['path']}", "start from the home page, /")
        raise _Refusal(404, f"no such API route: {scope['path']}", "see /api/v1/openapi.json")

    def _check_host(self, scope: Scope) -> None:
        if "*" in self.hosts:
            return
        host = _header(scope, b"host") or ""
        name = host.rsplit(":", 1)[0] if not host.startswith("[") else host[1:].split("]")[0]
        if name not in self.hosts:
            raise _Refusal(
                400,
                f"this server does not answer to the host name {name!r}",
                "start it with --allowed-host NAME to add one",
            )

    def _check_origin(self, scope: Scope) -> None:
        """Refuse a change a browser sends from another site. A body-less POST needs no CORS
        preflight, and in local or proxy mode the browser's request carries its credentials
        by itself (the caller's address, the proxy's header): only the Origin tells."""
        if scope["method"] in _SAFE_METHODS:
            return
        origin = _header(scope, b"origin")
        if origin is None or origin in self.context.settings.cors_origins:
            return
        if urlsplit(origin).netloc.lower() != (_header(scope, b"host") or "").lower():
            raise _Refusal(
                403,
                f"a change from another site ({origin}) is refused",
                "call the API from the server's own pages, a script or the CLI, or start "
                "the server with --cors-origin for that site",
            )

    async def _admit(self, scope: Scope, route: Route) -> Principal | None:
        principal = await self._identify(scope, route)
        if route.access is PUBLIC:
            return principal
        if principal is None:
            raise Unauthenticated(
                "this route needs a token",
                hint="run 'parity login URL' or set PARITY_TOKEN",
            )
        assert isinstance(route.access, Role)
        target = None
        if route.scope is not None:
            kind, parameter = route.scope
            value = scope.get("path_params", {}).get(parameter)
            target = (kind, str(value)) if value is not None else None
        if not principal.may(route.access, target):
            raise Forbidden(
                f"{principal.user} ({principal.role.label}) may not {route.summary.lower()}: "
                f"it needs the {route.access.label} role",
                hint="ask an admin for a token with that role",
            )
        return principal

    async def _identify(self, scope: Scope, route: Route) -> Principal | None:
        settings = self.context.settings
        authorization = _header(scope, b"authorization")
        # A web UI session: its cookie carries a token, for pages and for the API's reads (the
        # charts' data); an API write still needs the Authorization header, so a browser
        # cannot be made to write through the API by its cookie.
        session = _cookie(scope, SESSION_COOKIE)
        if not authorization and session and (route.page or not route.writes):
            found = await self._cached(session)
            if found is not None:
                return found
        if authorization:
            kind, _, token = authorization.partition(" ")
            if kind.lower() != "bearer" or not token:
                raise Unauthenticated(
                    "the Authorization header must be 'Bearer TOKEN'", hint="check PARITY_TOKEN"
                )
            principal = await self._cached(token.strip())
            if principal is None:
                raise Unauthenticated(
                    "the token is unknown, revoked or expired",
                    hint="run 'parity login URL' again or ask an admin for a new token",
                )
            return principal
        if self.proxies and settings.user_header:
            user = _header(scope, settings.user_header.lower().encode())
            if user and self._from_proxy(scope):
                return await anyio.to_thread.run_sync(self.context.accounts.principal_of, user)
        if self._local and settings.local_user:
            # Asked on every request of local mode (one indexed row), so the first user
            # created ends it at once, not after a restart.
            if not await anyio.to_thread.run_sync(self.context.accounts.has_users):
                return Principal(user=settings.local_user, role=Role.ADMIN)
            self._local = False
        return None

    async def _cached(self, token: str) -> Principal | None:
        now = time.monotonic()
        hit = self._cache.get(token)
        if hit is not None and now - hit[0] < _PRINCIPAL_CACHE_S:
            return hit[1]
        principal = await anyio.to_thread.run_sync(self.context.accounts.authenticate, token)
        if len(self._cache) > 4096:
            self._cache.clear()
        self._cache[token] = (now, principal)
        return principal

    @staticmethod
    def _check_body(scope: Scope, route: Route) -> None:
        length = _header(scope, b"content-length")
        if length is not None:
            if not length.isdigit():
                raise UsageError("Content-Length is not a number", hint="send a valid request")
            if int(length) > route.max_body:
                raise _Refusal(
                    413,
                    f"the request body ({int(length):,} bytes) is larger than this route "
                    f"takes ({route.max_body:,})",
                    "send it in smaller batches",
                )
        if not route.writes:
            return
        media = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if route.page:  # a page's form; the page checks its CSRF token before acting
            if media != FORM_TYPE:
                raise _Refusal(415, f"a page takes {FORM_TYPE}, not {media}", "post the form")
            return
        if media in _FORM_TYPES:
            raise _Refusal(415, f"{media} bodies are not accepted", "send application/json")
        has_body = (length is not None and int(length) > 0) or _header(scope, b"transfer-encoding")
        wanted = "application/octet-stream" if route.raw_body else "application/json"
        if (has_body or media) and media != wanted:
            raise _Refusal(
                415, f"this route takes {wanted}, not {media or 'no type'}", f"send {wanted}"
            )

    def _log_write(self, principal: Principal | None, method: str, path: str, status: int) -> None:
        with self.context.workspace.meta.write() as connection:
            connection.execute(
                insert(write_log).values(
                    time_ms=int(time.time() * 1000),
                    user=principal.user if principal else "-",
                    token_id=principal.token_id if principal else None,
                    method=method,
                    path=path[:2000],
                    status=status,
                )
            )


class _Refusal(Exception):
    def __init__(self, status: int, message: str, hint: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint


def _busy_response(status: int, page: bool) -> Response:
    if status == 429:
        message = "you are running as many drift computations as one user may at once"
        hint = "wait for the others to finish, then reload"
    else:
        message = "the server is running as many drift computations as it takes at once"
        hint = "try again in a few seconds"
    code = 2 if status == 429 else 5
    answer = error_page(status, message, hint) if page else json_error(status, message, code, hint)
    answer.headers["Retry-After"] = str(RETRY_AFTER_S)
    return answer


def _cookie(scope: Scope, name: str) -> str | None:
    text = _header(scope, b"cookie")
    if not text:
        return None
    for part in text.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None


def _wants_page(scope: Scope) -> bool:
    """A browser asking for a page (outside the API, accepting HTML) is refused in HTML."""
    accept = _header(scope, b"accept") or ""
    return not scope["path"].startswith(API_PREFIX) and "text/html" in accept


def _page_refusal(scope: Scope, error: ParityError) -> Response:
    """A page's refusal in HTML; a caller who is not signed in goes to the sign-in page."""
    if isinstance(error, Unauthenticated) and scope["method"] in {"GET", "HEAD"}:
        return login_redirect(scope["path"], scope.get("query_string", b"").decode("latin-1"))
    return error_page(status_of(error), error.message, error.hint)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _limited_receive(receive: Receive, limit: int) -> Callable[[], Awaitable[Message]]:
    """``receive`` that fails once more than ``limit`` body bytes arrived (a chunked body has
    no Content-Length to check up front)."""
    seen = 0

    async def bounded() -> MutableMapping[str, Any]:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(
                    f"the request body is larger than this route takes ({limit:,} bytes)",
                    hint="send it in smaller batches",
                )
        return message

    return bounded
