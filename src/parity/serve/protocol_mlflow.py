"""MLflow's scoring protocol: ``POST /invocations``, answered as ``mlflow models serve`` does.

Payloads: ``dataframe_split``, ``dataframe_records``, ``instances`` and ``inputs``, in JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parity.serve.decoder import PayloadError, RequestDecoder
from parity.serve.prediction import Matrix, PredictionCore
from parity.serve.responses import json_response
from parity.serve.state import ServingState


def decode_mlflow_payload(decoder: RequestDecoder, payload: Any) -> Matrix:
    if not isinstance(payload, Mapping):
        raise PayloadError("an MLflow payload is a JSON object")
    if "dataframe_split" in payload:
        split = payload["dataframe_split"]
        if not isinstance(split, Mapping) or "data" not in split:
            raise PayloadError("dataframe_split needs 'columns' and 'data'")
        return decoder.from_split(split.get("columns", list(decoder.columns)), split["data"])
    if "dataframe_records" in payload:
        return decoder.from_records(payload["dataframe_records"])
    for key in ("instances", "inputs"):
        if key in payload:
            value = payload[key]
            if isinstance(value, Mapping):
                return decoder.from_column_lists(value)
            if isinstance(value, list) and value and isinstance(value[0], Mapping):
                return decoder.from_records(value)
            return decoder.from_rows(value)
    raise PayloadError(
        "an MLflow payload needs one of dataframe_split, dataframe_records, instances, inputs"
    )


def routes(state: ServingState, core: PredictionCore) -> list[Route]:
    decoder = state.decoder

    async def decode(request: Request) -> Matrix:
        return decode_mlflow_payload(decoder, orjson.loads(await request.body()))

    def encode(predictions: Matrix) -> Response:
        return json_response({"predictions": predictions})

    return [
        Route("/invocations", core.endpoint("invocations", decode, encode), methods=["POST"]),
    ]
