"""Routes about the server itself: health (no token), the API description, who am I."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import BaseModel
from starlette.responses import Response

from parity import __version__
from parity.core.roles import Role
from parity.server.dependencies import Caller
from parity.server.routing import PUBLIC, Route


class Health(BaseModel):
    status: str
    version: str


class Identity(BaseModel):
    user: str
    role: str


def health() -> Health:
    """Answers while the process can serve; load balancers and clients probe it."""
    return Health(status="ok", version=__version__)


def openapi_description(request: Request) -> Response:
    """This API's OpenAPI 3.1 description."""
    import orjson  # lazy: only this route serialises the description

    document: dict[str, Any] = request.app.openapi()
    return Response(orjson.dumps(document), media_type="application/json")


def whoami(principal: Caller) -> Identity:
    """The user and role the request's token stands for."""
    return Identity(user=principal.user, role=principal.role.label)


ROUTES = (
    Route("GET", "/health", PUBLIC, health, "Check the server", response_model=Health),
    Route("GET", "/openapi.json", PUBLIC, openapi_description, "Describe the API"),
    Route("GET", "/whoami", Role.READER, whoami, "Name the caller", response_model=Identity),
)
