"""Errors as the API sends them: JSON ``{"error", "code", "hint"}``, ``code`` being the exit
status the CLI gives the same error, so a client can raise the same exception again."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from starlette.responses import Response

from parity.core.errors import (
    AccessDenied,
    CheckFailed,
    ConflictError,
    DatabaseBusy,
    NotFoundError,
    ParityError,
    StorageError,
    UsageError,
)

# Seconds a client should wait before retrying a request the database was too busy for.
RETRY_AFTER_S = 1
logger = logging.getLogger("parity.server")


class Unauthenticated(AccessDenied):
    """No token, or one the server does not accept (401)."""


class Forbidden(AccessDenied):
    """A valid token whose role is too small for the route (403)."""


class BodyTooLarge(UsageError):
    """A request body larger than its route takes (413), found while it streams in."""


def status_of(error: ParityError) -> int:
    """The HTTP status of ``error``: the most specific family wins."""
    for family, status in (
        (Unauthenticated, 401),
        (BodyTooLarge, 413),
        (Forbidden, 403),
        (AccessDenied, 403),
        (NotFoundError, 404),
        (DatabaseBusy, 503),
        (ConflictError, 409),
        (UsageError, 400),
        (StorageError, 503),
        (CheckFailed, 422),
    ):
        if isinstance(error, family):
            return status
    return 500


def error_body(message: str, code: int, hint: str | None) -> dict[str, Any]:
    return {"error": message, "code": code, "hint": hint}


def error_response(error: ParityError) -> Response:
    status = status_of(error)
    headers = {"Retry-After": str(RETRY_AFTER_S)} if isinstance(error, DatabaseBusy) else {}
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    if status >= 500:
        # The server's own failure: its operator reads why in the log; a client is told only
        # that it happened, never a database URL, a path or a driver's message.
        logger.error("%s: %s (%s)", type(error).__name__, error.message, error.hint)
        busy = isinstance(error, DatabaseBusy)
        message = (
            "the server's database is busy"
            if busy
            else "the server could not complete the request: its storage failed"
        )
        hint = "try again in a moment" if busy else "try again later; the server's log says why"
        return json_error(status, message, error.exit_code, hint, headers)
    return json_error(status, error.message, error.exit_code, error.hint, headers)


def json_error(
    status: int,
    message: str,
    code: int,
    hint: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        orjson.dumps(error_body(message, code, hint)),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
