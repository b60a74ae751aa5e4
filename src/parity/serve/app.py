"""A model server: the routes of every protocol it speaks, over one gated prediction core.

Each protocol (``protocol_parity``, ``protocol_mlflow``, ``protocol_oip``) builds its own routes
and reads and writes only its own payloads; ``prediction.PredictionCore`` is what they share.
Every answer names the model version behind it in an ``X-Model-Version`` header (``name/3``),
so a client can tell which version answered also while ``--follow-alias`` switches versions.

Plain Starlette rather than FastAPI (which is Starlette plus pydantic): no endpoint here takes a
pydantic model, and importing FastAPI cost 0.18 s of every server's start-up on this machine.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from parity.serve import protocol_mlflow, protocol_oip, protocol_parity
from parity.serve.prediction import PredictionCore
from parity.serve.request_body import DEFAULT_MAX_BODY_BYTES
from parity.serve.state import ServingState

VERSION_HEADER = "X-Model-Version"


class _NameTheVersion:
    """Adds the ``X-Model-Version`` header to every HTTP answer (a raw ASGI middleware: no
    per-request objects beyond one header pair)."""

    def __init__(self, app: ASGIApp, version: str) -> None:
        self.app = app
        self.header = (VERSION_HEADER.lower().encode("latin-1"), version.encode("latin-1"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def named(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), self.header]
            await send(message)

        await self.app(scope, receive, named)


def create_app(state: ServingState, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> Starlette:
    """The server's app; a prediction request whose body exceeds ``max_body_bytes`` gets 413."""
    core = PredictionCore(
        state.predictor,
        gate=state.readiness,
        metrics=state.metrics,
        log=state.log,
        max_body_bytes=max_body_bytes,
    )
    app = Starlette(
        routes=[
            *protocol_parity.routes(state, core),
            *protocol_mlflow.routes(state, core),
            *protocol_oip.routes(state, core),
        ],
        middleware=[Middleware(_NameTheVersion, version=state.version.ref)],
    )
    app.state.serving = state
    return app
