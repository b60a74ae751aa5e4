"""Parity's own protocol: ``POST /predict``; the server's ``/health``, ``/metadata``, ``/metrics``.

``/predict`` takes records, a ``{"columns", "data"}`` split or ``{"column": [values]}``, and
MLflow's payloads as well, and names the model version that answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parity.serve.column_rules import PayloadError
from parity.serve.decoder import RequestDecoder
from parity.serve.prediction import Decoded, Matrix, PredictionCore
from parity.serve.protocol_mlflow import decode_mlflow_payload
from parity.serve.responses import json_response, jsonable
from parity.serve.state import ServingState

_PROMETHEUS_TEXT = "text/plain; version=0.0.4"


def decode_predict_payload(decoder: RequestDecoder, payload: Any) -> Matrix:
    if isinstance(payload, Mapping):
        if "records" in payload:
            return decoder.from_records(payload["records"])
        if "columns" in payload and "data" in payload:
            return decoder.from_split(payload["columns"], payload["data"])
        if (
            "inputs" in payload
            or "instances" in payload
            or any(k.startswith("dataframe_") for k in payload)
        ):
            return decode_mlflow_payload(decoder, payload)
        return decoder.from_column_lists(payload)
    if isinstance(payload, list):
        return decoder.from_records(payload)
    raise PayloadError("send a JSON list of records or an object with 'columns' and 'data'")


def routes(state: ServingState, core: PredictionCore) -> list[Route]:
    decoder, readiness, model = state.decoder, state.readiness, state.version.ref

    def reply(predictions: Matrix) -> Response:
        return json_response({"predictions": jsonable(predictions), "model": model})

    def decode(_request: Request, body: bytes) -> Decoded:
        return Decoded(decode_predict_payload(decoder, orjson.loads(body)), reply)

    async def health(_request: Request) -> Response:
        body: dict[str, Any] = {
            "status": "ok" if readiness.ready else "not ready",
            "reasons": readiness.reasons,
            "model": model,
        }
        if state.following is not None:  # --follow-alias: the alias, switches, a refused version
            body["following"] = state.following()
        return json_response(body, 200 if readiness.ready else 503)

    async def metadata(_request: Request) -> Response:
        return json_response(state.metadata())

    async def prometheus(_request: Request) -> Response:
        return Response(state.metrics.render(), media_type=_PROMETHEUS_TEXT)

    return [
        Route("/predict", core.endpoint("predict", decode), methods=["POST"]),
        Route("/health", health, methods=["GET"]),
        Route("/metadata", metadata, methods=["GET"]),
        Route("/metrics", prometheus, methods=["GET"]),
    ]
