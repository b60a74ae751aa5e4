"""Signing in (a password or a token) and out. A sign-in makes a session token of its own,
good for 12 hours but never longer than the token signed in with, which the cookie carries and
signing out revokes (as does revoking that token, or changing the user's password)."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import Query, Request
from starlette.responses import RedirectResponse, Response

from parity.core.roles import Principal
from parity.ui.page import AccountsOf, Form, Page, Viewer
from parity.ui.session import (
    SESSION_SECONDS,
    end_session,
    new_csrf,
    remember_csrf,
    start_session,
)
from parity.ui.templating import render

Next = Annotated[str, Query(max_length=2000)]


def _local(target: str) -> str:
    """``target`` when it is a path on this server, else the home page (no open redirect)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def login_page(request: Request, viewer: Viewer, next: Next = "/") -> Response:
    """The sign-in form."""
    return render(request, "login.html", viewer, next=_local(next), error=None, user="")


def login(request: Request, form: Form, accounts: AccountsOf, viewer: Viewer) -> Response:
    """Check a password or a token; on success start a session and go where the user was."""
    target = _local(form.get("next", "/"))
    user = form.get("user", "").strip()
    password = form.get("password", "")
    token = form.get("token", "").strip()
    client = request.client.host if request.client else "-"
    limiter = request.app.state.context.limiter
    # Passwords are rate-limited as the API's sign-in is; a 256-bit token cannot be guessed,
    # and the API takes tokens without a limit too.
    if not token and not limiter.allow(client, user, time.monotonic()):
        return render(request, "login.html", viewer, 429, next=target, user=user,
                      error="too many sign-in attempts: wait a minute, then try again")  # fmt: skip
    principal: Principal | None = None
    if token:
        principal = accounts.authenticate(token)
    elif user and password:
        principal = accounts.check_password(user, password)
    if principal is None:
        return render(request, "login.html", viewer, 401, next=target, user=user,
                      error="wrong user name and password, or an unknown token")  # fmt: skip
    session, expires_ms = accounts.create_session(
        principal.user, principal.role, principal.token_id, SESSION_SECONDS * 1000
    )
    response = RedirectResponse(target, status_code=303)
    start_session(request, response, session, max(1, (expires_ms - accounts.clock()) // 1000))
    new_csrf(request)  # a CSRF token set before sign-in is not the signed-in forms' one
    remember_csrf(request, response)
    return response


def logout(request: Request, form: Form, viewer: Viewer, accounts: AccountsOf) -> Response:
    """End the session: its token is revoked, so a copied cookie stops working too."""
    if viewer is not None and viewer.token_id is not None:
        accounts.revoke_token(viewer.token_id)
    response = RedirectResponse("/login", status_code=303)
    end_session(request, response)
    new_csrf(request)
    remember_csrf(request, response)
    return response


PAGES = (
    Page("GET", "/login", None, login_page, "Show the sign-in page"),
    Page("POST", "/login", None, login, "Sign in"),
    Page("POST", "/logout", None, logout, "Sign out"),
)
