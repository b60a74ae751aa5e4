"""Security headers on every response the server sends, page or API, answer or refusal.

Pages render with their own (``ui.templating.SECURITY_HEADERS``), but a response can come from
elsewhere: FastAPI's 422 for a bad query value, the gate's refusals, a JSON answer read by a
browser with an admin's session cookie. This middleware adds whichever of the headers a
response lacks, so none leaves without them; a header a response set itself (a static file's
year-long Cache-Control) is kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parity.server.routing import API_PREFIX
from parity.ui.templating import SECURITY_HEADERS

# The API's answers are data, never documents to render, frame or run scripts from.
_API_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Answers carry what a token or session may read: no shared or browser cache keeps them.
    "Cache-Control": "no-store",
}


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]


_FOR_PAGES = _encoded(SECURITY_HEADERS)
_FOR_API = _encoded(_API_HEADERS)


class SecurityHeaders:
    """ASGI middleware, outermost: adds the headers of ``_FOR_PAGES`` or ``_FOR_API``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = _FOR_API if str(scope.get("path", "")).startswith(API_PREFIX) else _FOR_PAGES

        async def add_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {bytes(key).lower() for key, _ in message.get("headers", ())}
                missing = [(k, v) for k, v in wanted if k not in present]
                if missing:
                    message["headers"] = [*message.get("headers", ()), *missing]
            await send(message)

        await self.app(scope, receive, add_headers)
