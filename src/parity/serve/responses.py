"""How a model server answers in JSON, whatever the protocol: orjson, NumPy arrays as lists."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

_JSON = "application/json"


def json_response(document: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY), status, media_type=_JSON
    )


def error_response(message: str, status: int) -> Response:
    """Every protocol's errors have one shape: ``{"error": message}``."""
    return json_response({"error": message}, status)
