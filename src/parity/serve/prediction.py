"""The one prediction path under every protocol: readiness gate, decode, predict, log, count.

A protocol brings two functions: how to read its request into the model's input matrix, and how
to write predictions back. The core refuses (503) until the start-up checks pass, turns bad JSON
into 400, a payload that is not the model's input into 422 and a model error into 500, logs the
rows and counts every request the same way whichever protocol it came by.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from starlette.requests import Request
from starlette.responses import Response

from parity.serve.decoder import PayloadError
from parity.serve.metrics import ServerMetrics
from parity.serve.prediction_log import PredictionLog
from parity.serve.predictor import Predictor
from parity.serve.responses import error_response
from parity.serve.state import Readiness

Matrix = np.ndarray[Any, Any]
# Reads the whole request itself (body, and headers where a protocol needs them), raising
# orjson.JSONDecodeError for a body that is not JSON and PayloadError for one that is not the
# model's input.
Decode = Callable[[Request], Awaitable[Matrix]]
Encode = Callable[[Matrix], Response]
Endpoint = Callable[[Request], Awaitable[Response]]


class ModelFailed(Exception):
    """The model raised on rows that decoded fine; the message names the model's exception."""


@dataclass(frozen=True)
class PredictionCore:
    predictor: Predictor
    gate: Readiness  # predictions are refused until the environment and golden checks pass
    metrics: ServerMetrics
    log: PredictionLog | None

    def predict(self, matrix: Matrix) -> Matrix:
        """Predict decoded rows, offer them to the prediction log and count the batch."""
        try:
            predictions = self.predictor.predict(matrix)
        except Exception as exc:  # whatever the model raises fails the request, not the server
            self.metrics.errors.labels("model").inc()
            raise ModelFailed(f"the model failed: {type(exc).__name__}: {exc}") from exc
        if self.log is not None:
            self.log.record(matrix, predictions)
        self.metrics.batch_size.observe(len(matrix))
        return predictions

    def endpoint(self, name: str, decode: Decode, encode: Encode) -> Endpoint:
        """A protocol's prediction endpoint; ``name`` labels its requests and latency metrics."""
        gate, metrics = self.gate, self.metrics

        async def answer(request: Request) -> Response:
            started = time.perf_counter()
            if not gate.ready:
                metrics.requests.labels(name, "503").inc()
                return error_response("model is not ready: " + "; ".join(gate.reasons), 503)
            try:
                matrix = await decode(request)
            except orjson.JSONDecodeError as exc:
                metrics.errors.labels("bad_json").inc()
                metrics.requests.labels(name, "400").inc()
                return error_response(f"the body is not valid JSON: {exc}", 400)
            except PayloadError as exc:
                metrics.errors.labels("bad_payload").inc()
                metrics.requests.labels(name, "422").inc()
                return error_response(str(exc), 422)
            try:
                predictions = self.predict(matrix)
            except ModelFailed as exc:
                metrics.requests.labels(name, "500").inc()
                return error_response(str(exc), 500)
            metrics.requests.labels(name, "200").inc()
            metrics.latency.labels(name).observe(time.perf_counter() - started)
            return encode(predictions)

        return answer
