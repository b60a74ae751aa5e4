"""The ASGI app of ``parity server start``: the route table on FastAPI, behind the gate."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from parity import __version__
from parity.core.errors import ParityError
from parity.core.roles import Principal
from parity.server.context import ServerContext, build_context
from parity.server.errors import error_response, json_error, status_of
from parity.server.gate import Gate
from parity.server.headers import SecurityHeaders
from parity.server.route_table import ROUTES, SERVED
from parity.server.routing import API_PREFIX, PUBLIC, Route
from parity.server.settings import ServerSettings
from parity.ui.errors import error_page, invalid_address

_CONVERTOR = re.compile(r"{(\w+):\w+}")
_ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "code"],
    "properties": {
        "error": {"type": "string"},
        "code": {"type": "integer"},
        "hint": {"type": ["string", "null"]},
    },
}

_RAW_BODY = {
    "required": True,
    "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
}


def create_app(context: ServerContext, routes: tuple[Route, ...] = SERVED) -> Any:
    """The app serving ``routes`` over ``context``; returns the ASGI callable (the gate)."""
    api = build_api(routes)
    api.state.context = context
    declared: dict[Any, Route] = {route.endpoint: route for route in routes}
    app: Any = Gate(api, api.router, declared, context)
    if context.settings.cors_origins:
        app = CORSMiddleware(
            app,
            allow_origins=list(context.settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
        )
    return SecurityHeaders(app)


def build_api(routes: tuple[Route, ...] = ROUTES) -> FastAPI:
    """The FastAPI app of ``routes``, without the gate and without stores: it describes the
    API (``describe``) and, behind the gate, serves it."""
    api = FastAPI(
        title="Parity",
        version=__version__,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        description="The REST API of a Parity server.",
    )
    for route in routes:
        api.add_api_route(
            route.full_path,
            route.endpoint,
            methods=[route.method],
            summary=route.summary,
            name=route.name,
            operation_id=route.name,
            include_in_schema=not route.page,
            response_model=route.response_model,
            status_code=route.status_code,
            **({"response_class": route.response_class} if route.response_class else {}),
            responses={
                "default": {
                    "description": "An error",
                    "content": {"application/json": {"schema": _ERROR_SCHEMA}},
                }
            },
        )
    api.openapi = lambda: _describe(api, routes)  # type: ignore[method-assign]

    @api.exception_handler(ParityError)
    async def parity_error(request: Request, error: ParityError) -> Response:
        if not request.url.path.startswith(API_PREFIX):  # a page of the web UI: in HTML
            return error_page(status_of(error), error.message, error.hint, _viewer(request))
        return error_response(error)

    @api.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> Response:
        # FastAPI's own refusals (a body it could not read, ...) in the API's error shape; a
        # ParityError behind one (the gate cutting off a streamed body) keeps its status.
        if isinstance(error.__cause__, ParityError):
            return error_response(error.__cause__)
        status = error.status_code
        code = 3 if status == 404 else 4 if status == 409 else 2 if status < 500 else 5
        headers = dict(error.headers) if error.headers else None
        hint = "see /api/v1/openapi.json for the request's shape" if status == 400 else None
        return json_error(status, str(error.detail).lower(), code, hint, headers)

    @api.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> Response:
        first = error.errors()[0] if error.errors() else {}
        if not request.url.path.startswith(API_PREFIX):  # a page: in HTML, in words
            status, message, hint = invalid_address(request.url.path, first)
            return error_page(status, message, hint, _viewer(request))
        where = ".".join(str(part) for part in first.get("loc", ()))
        return json_error(
            422,
            f"invalid request: {where}: {first.get('msg', 'invalid')}",
            2,
            "see /api/v1/openapi.json for the request's shape",
        )

    return api


def _viewer(request: Request) -> Principal | None:
    """Who the gate admitted, for the header of an error page."""
    found: Principal | None = request.scope.get("state", {}).get("principal")
    return found


def _describe(api: FastAPI, routes: tuple[Route, ...]) -> dict[str, Any]:
    if api.openapi_schema:
        return api.openapi_schema
    from fastapi.openapi.utils import get_openapi  # lazy: only the description route needs it

    document = get_openapi(
        title=api.title, version="1", description=api.description, routes=api.routes
    )
    document.setdefault("components", {})["securitySchemes"] = {
        "token": {"type": "http", "scheme": "bearer"}
    }
    # The description names a path parameter without its convertor ({key}, not {key:path}).
    by_path = {(_CONVERTOR.sub(r"{\1}", r.full_path), r.method.lower()): r for r in routes}
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            route = by_path.get((path, method))
            if route is None:
                continue
            operation["security"] = [] if route.access is PUBLIC else [{"token": []}]
            if route.access is not PUBLIC:
                operation["x-parity-role"] = route.access.label
            if route.raw_body:  # read by the handler as a stream, so FastAPI cannot tell
                operation.setdefault("requestBody", _RAW_BODY)
    api.openapi_schema = document
    return document


def build() -> Any:
    """The app of one uvicorn worker, from the settings the start command left in the
    environment (``settings.OPTIONS_VARIABLE``)."""
    context = build_context(ServerSettings.from_environment())
    context.delivery.kick()  # events a stopped server left undelivered
    return create_app(context)
