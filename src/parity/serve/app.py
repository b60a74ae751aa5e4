"""The HTTP interface of a model server: Parity's, MLflow's and the Open Inference Protocol's
endpoints over one predictor. Bodies are parsed and written with orjson directly.

Plain Starlette rather than FastAPI (which is Starlette plus pydantic): no endpoint here takes a
pydantic model, and importing FastAPI cost 0.18 s of every server's start-up on this machine.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parity.serve.decoder import PayloadError
from parity.serve.state import ServingState

_JSON = "application/json"
_OIP_DATATYPES = {"f": "FP64", "i": "INT64", "u": "UINT64", "b": "BOOL", "O": "BYTES", "U": "BYTES"}


def _json(document: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY), status, media_type=_JSON
    )


def _error(message: str, status: int) -> Response:
    return _json({"error": message}, status)


def create_app(state: ServingState) -> Starlette:
    metrics = state.metrics
    name = state.version.name

    async def predict_with(
        request: Request,
        endpoint: str,
        decode: Callable[[Any], np.ndarray[Any, Any]],
        answer: Callable[[np.ndarray[Any, Any]], Any],
    ) -> Response:
        started = time.perf_counter()
        if not state.readiness.ready:
            metrics.requests.labels(endpoint, "503").inc()
            return _error("model is not ready: " + "; ".join(state.readiness.reasons), 503)
        try:
            matrix = decode(orjson.loads(await request.body()))
        except orjson.JSONDecodeError as exc:
            metrics.errors.labels("bad_json").inc()
            metrics.requests.labels(endpoint, "400").inc()
            return _error(f"the body is not valid JSON: {exc}", 400)
        except PayloadError as exc:
            metrics.errors.labels("bad_payload").inc()
            metrics.requests.labels(endpoint, "422").inc()
            return _error(str(exc), 422)
        try:
            predictions = state.predictor.predict(matrix)
        except Exception as exc:
            metrics.errors.labels("model").inc()
            metrics.requests.labels(endpoint, "500").inc()
            return _error(f"the model failed: {type(exc).__name__}: {exc}", 500)
        if state.log is not None:
            state.log.record(matrix, predictions)
        metrics.batch_size.observe(len(matrix))
        metrics.requests.labels(endpoint, "200").inc()
        metrics.latency.labels(endpoint).observe(time.perf_counter() - started)
        return _json(answer(predictions))

    async def predict(request: Request) -> Response:
        return await predict_with(
            request,
            "predict",
            state.decoder.decode,
            lambda p: {"predictions": p, "model": state.version.ref},
        )

    async def invocations(request: Request) -> Response:
        return await predict_with(
            request, "invocations", state.decoder.decode_mlflow, lambda p: {"predictions": p}
        )

    async def infer(request: Request) -> Response:
        model_name = request.path_params["model_name"]
        if model_name != name:
            return _error(f"no model named {model_name!r} here; this server serves {name!r}", 404)

        def answer(predictions: np.ndarray[Any, Any]) -> dict[str, Any]:
            return {
                "model_name": name,
                "model_version": str(state.version.version),
                "outputs": [
                    {
                        "name": "predict",
                        "shape": list(predictions.shape),
                        "datatype": _OIP_DATATYPES.get(predictions.dtype.kind, "BYTES"),
                        "data": predictions.reshape(-1),
                    }
                ],
            }

        return await predict_with(request, "infer", state.decoder.decode_oip, answer)

    async def model_metadata(request: Request) -> Response:
        model_name = request.path_params["model_name"]
        if model_name != name:
            return _error(f"no model named {model_name!r} here", 404)
        signature = state.record.signature
        inputs = signature.inputs if signature else ()
        return _json(
            {
                "name": name,
                "versions": [str(state.version.version)],
                "platform": state.record.flavor,
                "inputs": [{"name": c.name, "datatype": c.dtype, "shape": [-1]} for c in inputs],
                "outputs": [
                    {"name": c.name, "datatype": c.dtype, "shape": [-1]}
                    for c in (signature.outputs if signature else ())
                ],
            }
        )

    async def live(_request: Request) -> Response:
        return _json({"live": True})

    async def ready(_request: Request) -> Response:
        return _json({"ready": state.readiness.ready}, 200 if state.readiness.ready else 503)

    async def health(_request: Request) -> Response:
        body = {
            "status": "ok" if state.readiness.ready else "not ready",
            "reasons": state.readiness.reasons,
        }
        return _json(body, 200 if state.readiness.ready else 503)

    async def metadata(_request: Request) -> Response:
        return _json(state.metadata())

    async def prometheus(_request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    post, get = ["POST"], ["GET"]
    app = Starlette(
        routes=[
            Route("/predict", predict, methods=post),
            Route("/invocations", invocations, methods=post),
            Route("/v2/models/{model_name}/infer", infer, methods=post),
            Route("/v2/models/{model_name}", model_metadata, methods=get),
            Route("/v2/health/live", live, methods=get),
            Route("/v2/health/ready", ready, methods=get),
            Route("/health", health, methods=get),
            Route("/metadata", metadata, methods=get),
            Route("/metrics", prometheus, methods=get),
        ]
    )
    app.state.serving = state
    return app
