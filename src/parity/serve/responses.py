"""How a model server answers in JSON, whatever the protocol: orjson, NumPy arrays as lists."""

from __future__ import annotations

from typing import Any

import numpy as np
import orjson
from starlette.responses import Response

_JSON = "application/json"


def json_response(document: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY), status, media_type=_JSON
    )


def error_response(message: str, status: int) -> Response:
    """Parity's and the Open Inference Protocol's error document: ``{"error": message}``."""
    return json_response({"error": message}, status)


def jsonable(array: np.ndarray[Any, Any]) -> Any:
    """``array`` as orjson writes it: numbers and booleans as they are, anything else as a list.

    orjson writes NumPy's numeric arrays itself (C-contiguous ones only) but refuses object and
    string arrays (a classifier's string labels), which become lists of Python values.
    """
    if array.dtype.kind in "fiub" and array.dtype.itemsize in (1, 2, 4, 8):
        return np.ascontiguousarray(array)
    return array.tolist()
