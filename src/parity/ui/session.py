"""The browser's session and the CSRF token of its forms.

A signed-in browser holds a session token in an HttpOnly, SameSite=Strict cookie (Secure over
TLS): the same kind of token a client sends as ``Authorization: Bearer``, made for that sign-in
and revoked at sign-out. Forms carry a CSRF token that must equal the one in a second cookie
(double submit): a page of another site can neither read that cookie nor set it. The CSRF
token is made anew at sign-in and sign-out, and only a token of the shape this module makes is
accepted, so a value planted before sign-in is never the one a signed-in form carries.
"""

from __future__ import annotations

import hmac
import re
import secrets

from starlette.requests import Request
from starlette.responses import Response

from parity.core.errors import AccessDenied

SESSION_COOKIE = "parity_session"
CSRF_COOKIE = "parity_csrf"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
FORM_TYPE = "application/x-www-form-urlencoded"
SESSION_SECONDS = 12 * 3600
# What ``secrets.token_urlsafe(32)`` makes: 43 characters of URL-safe base64.
_CSRF_SHAPE = re.compile(r"[A-Za-z0-9_-]{43}")
# The scope state key where the gate says whether the request came over TLS (``Gate.tls``).
TLS_STATE = "tls"


class CsrfRefused(AccessDenied):
    """A form post without the CSRF token of the browser that loaded the form (403)."""


def secure(request: Request) -> bool:
    """Whether cookies must be Secure: the request came over TLS, directly or, as a trusted
    proxy says, to that proxy; or the server was told to always make them Secure."""
    said = request.scope.get("state", {}).get(TLS_STATE)
    return bool(said) or request.url.scheme == "https"


def _well_formed(token: str | None) -> bool:
    return token is not None and _CSRF_SHAPE.fullmatch(token) is not None


def csrf_token(request: Request) -> str:
    """The browser's CSRF token: the cookie's, or a new one (``remember_csrf`` sets it)."""
    found = request.cookies.get(CSRF_COOKIE)
    if _well_formed(found) and not request.scope.get("state", {}).get("new_csrf"):
        assert found is not None
        return found
    return new_csrf(request)


def new_csrf(request: Request) -> str:
    """This request's new CSRF token (made once), which ``remember_csrf`` sets as the cookie:
    at sign-in and sign-out the old one is replaced whatever it was."""
    token: str | None = request.scope.setdefault("state", {}).get("new_csrf")
    if token is None:
        token = secrets.token_urlsafe(32)
        request.scope["state"]["new_csrf"] = token
    return token


def remember_csrf(request: Request, response: Response) -> None:
    """Set the CSRF cookie when this request made a new token."""
    token = request.scope.get("state", {}).get("new_csrf")
    if token:
        response.set_cookie(
            CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/"
        )


def check_csrf(request: Request, sent: str | None) -> None:
    """Refuse a form whose token (field or header) is not the browser's cookie's."""
    expected = request.cookies.get(CSRF_COOKIE)
    if not _well_formed(expected) or not sent or not hmac.compare_digest(expected or "", sent):
        raise CsrfRefused(
            "this form's security token is missing or stale",
            hint="reload the page and send the form again",
        )


def start_session(request: Request, response: Response, token: str, seconds: int) -> None:
    """Set the session cookie, kept by the browser for ``seconds`` (the session token's life)."""
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=seconds,
        httponly=True,
        samesite="strict",
        secure=secure(request),
        path="/",
    )


def end_session(request: Request, response: Response) -> None:
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=secure(request)
    )
