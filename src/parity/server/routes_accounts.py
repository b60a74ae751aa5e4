"""Routes about accounts: tokens and users (admins only), and signing in with a password.

``POST /login`` is the one public write: it takes a user's password (argon2id) and answers a
short-lived token with the user's role. Attempts are limited per client address and user.
"""

from __future__ import annotations

import time
from typing import Annotated, Literal

from fastapi import Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from parity.accounts.store import USER_NAME_PATTERN, TokenInfo
from parity.core.durations import parse_duration
from parity.core.roles import Role
from parity.server.dependencies import Context
from parity.server.errors import Unauthenticated, json_error
from parity.server.routing import PUBLIC, Route

# How long a token from a password sign-in lives: a working day, then sign in again.
LOGIN_TOKEN_MS = 12 * 3_600_000
# Seconds a sign-in waits for a free password-check slot before it is told to come back.
LOGIN_CHECK_WAIT_S = 5.0
# Seconds a client told to slow down should wait: the limiter's window.
LOGIN_RETRY_AFTER_S = 60
TOKEN_ID_PATTERN = r"^[0-9a-f]{16}$"  # noqa: S105 (the public id half, not a secret)

UserName = Annotated[str, Field(pattern=USER_NAME_PATTERN, max_length=200)]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: UserName
    role: Literal["reader", "writer", "admin"]
    label: Annotated[str, Field(max_length=200)] | None = None
    # A duration such as 90d or 12h; none: the token never expires.
    expires: Annotated[str, Field(pattern=r"^[0-9]{1,6}[smhdw]$")] | None = None


class TokenView(BaseModel):
    id: str
    user: str
    role: str
    label: str | None
    created_ms: int
    expires_ms: int | None
    revoked_ms: int | None
    last_used_ms: int | None

    @classmethod
    def of(cls, info: TokenInfo) -> TokenView:
        return cls.model_validate(info.to_dict())


class NewToken(BaseModel):
    token: str  # shown this once
    info: TokenView


class Revoked(BaseModel):
    revoked: str


class UserView(BaseModel):
    name: str
    admin: bool
    created_ms: int
    disabled: bool


class LoginRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user: Annotated[str, Field(pattern=USER_NAME_PATTERN, max_length=200)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class LoginAnswer(BaseModel):
    token: str
    user: str
    role: str
    expires_ms: int


def create_token(body: TokenRequest, ctx: Context) -> NewToken:
    """A new token for a user, shown once."""
    lifetime_ms = None if body.expires is None else parse_duration(body.expires)
    token, info = ctx.accounts.create_token(
        body.user, Role.parse(body.role), label=body.label, lifetime_ms=lifetime_ms
    )
    return NewToken(token=token, info=TokenView.of(info))


def list_tokens(
    ctx: Context,
    user: Annotated[str | None, Query(pattern=USER_NAME_PATTERN, max_length=200)] = None,
) -> list[TokenView]:
    """Every token, or one user's: ids and dates, never the secrets."""
    return [TokenView.of(info) for info in ctx.accounts.list_tokens(user)]


def revoke_token(token_id: Annotated[str, Path(pattern=TOKEN_ID_PATTERN)], ctx: Context) -> Revoked:
    """Revoke a token: refused everywhere within seconds."""
    ctx.accounts.revoke_token(token_id)
    return Revoked(revoked=token_id)


def list_users(ctx: Context) -> list[UserView]:
    """The users, by name."""
    return [UserView.model_validate(user) for user in ctx.accounts.list_users()]


def login(body: LoginRequest, request: Request, ctx: Context) -> LoginAnswer | Response:
    """Trade a user's password for a short-lived token with the user's role."""
    client = request.client.host if request.client else "-"
    if not ctx.limiter.allow(client, body.user, time.monotonic()):
        return json_error(
            429,
            f"too many sign-in attempts for {body.user!r} or from this address",
            2,
            f"wait {LOGIN_RETRY_AFTER_S} s, then try again",
            {"Retry-After": str(LOGIN_RETRY_AFTER_S)},
        )
    with ctx.limiter.checking(LOGIN_CHECK_WAIT_S) as slot:
        if not slot:
            return json_error(
                503,
                "too many sign-ins at once",
                5,
                "try again in a moment",
                {"Retry-After": "1"},
            )
        principal = ctx.accounts.check_password(body.user, body.password)
    if principal is None:
        raise Unauthenticated(
            "wrong user name or password",
            hint="ask an admin to set one: parity server user password NAME",
        )
    # A session, as the web UI's sign-in makes: a change of the password ends it.
    token, expires_ms = ctx.accounts.create_session(
        principal.user, principal.role, None, LOGIN_TOKEN_MS, label="password sign-in"
    )
    return LoginAnswer(
        token=token, user=principal.user, role=principal.role.label, expires_ms=expires_ms
    )


ROUTES = (
    Route(
        "POST",
        "/tokens",
        Role.ADMIN,
        create_token,
        "Create a token",
        response_model=NewToken,
        status_code=201,
        max_body=4096,
    ),
    Route("GET", "/tokens", Role.ADMIN, list_tokens, "List tokens", response_model=list[TokenView]),
    Route(
        "DELETE",
        "/tokens/{token_id}",
        Role.ADMIN,
        revoke_token,
        "Revoke a token",
        response_model=Revoked,
    ),
    Route("GET", "/users", Role.ADMIN, list_users, "List users", response_model=list[UserView]),
    Route(
        "POST",
        "/login",
        PUBLIC,
        login,
        "Sign in with a password",
        response_model=LoginAnswer,
        max_body=4096,
    ),
)
