"""The one prediction path under every protocol: readiness gate, body limit, decode, predict, log.

A protocol brings how to read its request into the model's input (with how to write the
predictions back for that request) and how it spells an error. The core refuses (503) until the
start-up checks pass, refuses a body over the limit (413), turns bad JSON into 400 and a payload
that is not the model's input into the protocol's 4xx, a model that refuses the rows into the
same 4xx and any other model failure into 500; it logs the rows and counts every request the
same way whichever protocol it came by. Decoding and predicting run on a worker thread, so
health checks and other requests are answered while a model works.

Every answer carries the request's id in ``X-Request-Id``: the OIP request's ``id`` when it is a
sane one, else the client's ``X-Request-Id`` when that is, else a new one. Logged rows keep it,
so labels sent later (``POST /feedback``) find the predictions they judge.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from parity.core.feedback import is_request_id
from parity.serve.column_rules import PayloadError
from parity.serve.metrics import ServerMetrics
from parity.serve.prediction_log import PredictionLog
from parity.serve.predictor import Predictor
from parity.serve.request_body import DEFAULT_MAX_BODY_BYTES, BodyTooLarge, read_body
from parity.serve.responses import error_response
from parity.serve.state import Readiness

Matrix = np.ndarray[Any, Any]
Endpoint = Callable[[Request], Awaitable[Response]]
# How a protocol answers an error: its own document for a message and an HTTP status.
Refuse = Callable[[str, int], Response]

_log = logging.getLogger("parity.serve")

REQUEST_ID_HEADER = "X-Request-Id"


def pick_request_id(*offered: str | None) -> str:
    """The first sane id offered, or a new one (32 hex digits)."""
    for candidate in offered:
        if candidate is not None and is_request_id(candidate):
            return candidate
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Decoded:
    """A request read as the model's input, and how to answer it once predicted."""

    matrix: Matrix
    reply: Callable[[Matrix], Response]
    request_id: str | None = None  # the id the request's own payload gives (OIP's ``id``)


# Reads one request (its body, and its headers or path where a protocol needs them); raises
# orjson.JSONDecodeError for a body that is not JSON, PayloadError for one that is not the
# model's input, Refused for what a protocol answers with a status of its own.
Decode = Callable[[Request, bytes], Decoded]


class Refused(Exception):
    """A request a protocol refuses with a given status (an unknown output, a media type)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ModelRefused(PayloadError):
    """The model raised ValueError/TypeError/ArithmeticError on rows that passed the checks."""


class ModelFailed(Exception):
    """The model raised anything else; the message names the model's exception."""


# What scikit-learn and NumPy raise for values they cannot take (infinite after scaling, …):
# the request's fault, so a 4xx, not a server error.
_INPUT_ERRORS = (ValueError, TypeError, ArithmeticError)


@dataclass(frozen=True)
class PredictionCore:
    predictor: Predictor
    gate: Readiness  # predictions are refused until the environment and golden checks pass
    metrics: ServerMetrics
    log: PredictionLog | None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def predict(self, matrix: Matrix, request_id: str | None = None) -> Matrix:
        """Predict decoded rows, offer them (with the request's id) to the prediction log and
        count the batch."""
        try:
            predictions = self.predictor.predict(matrix)
        except _INPUT_ERRORS as exc:
            self.metrics.errors.labels("model_refused").inc()
            raise ModelRefused(f"the model cannot predict these rows: {_describe(exc)}") from exc
        except Exception as exc:  # whatever else the model raises fails the request, not the server
            self.metrics.errors.labels("model").inc()
            raise ModelFailed(f"the model failed: {_describe(exc)}") from exc
        if self.log is not None:
            self.log.record(matrix, predictions, request_id)
        self.metrics.batch_size.observe(len(matrix))
        return predictions

    def endpoint(
        self, name: str, decode: Decode, refuse: Refuse = error_response, payload_status: int = 422
    ) -> Endpoint:
        """A protocol's prediction endpoint; ``name`` labels its requests and latency metrics.

        ``payload_status`` is the protocol's status for a request that is not the model's input.
        """
        gate, metrics = self.gate, self.metrics

        def respond(request: Request, body: bytes) -> Response:
            offered = request.headers.get(REQUEST_ID_HEADER)
            try:
                decoded = decode(request, body)
                request_id = pick_request_id(decoded.request_id, offered)
                response = decoded.reply(self.predict(decoded.matrix, request_id))
                response.headers[REQUEST_ID_HEADER] = request_id
                return response
            except orjson.JSONDecodeError as exc:
                metrics.errors.labels("bad_json").inc()
                return refuse(f"the body is not valid JSON: {exc}", 400)
            except ModelRefused as exc:
                return refuse(str(exc), payload_status)
            except PayloadError as exc:
                metrics.errors.labels("bad_payload").inc()
                return refuse(str(exc), payload_status)
            except Refused as exc:
                metrics.errors.labels("bad_payload").inc()
                return refuse(str(exc), exc.status)
            except ModelFailed as exc:
                return refuse(str(exc), 500)
            except Exception as exc:  # a bug of ours: a JSON 500 and the traceback in the log
                _log.exception("%s request failed", name)
                metrics.errors.labels("internal").inc()
                return refuse(f"internal error: {type(exc).__name__}", 500)

        async def answer(request: Request) -> Response:
            started = time.perf_counter()
            if not gate.ready:
                response = refuse("model is not ready: " + "; ".join(gate.reasons), 503)
            else:
                try:
                    body = await read_body(request, self.max_body_bytes)
                except BodyTooLarge as exc:
                    metrics.errors.labels("too_large").inc()
                    response = refuse(str(exc), 413)
                else:
                    response = await run_in_threadpool(respond, request, body)
            if REQUEST_ID_HEADER not in response.headers:  # refused before it was decoded
                response.headers[REQUEST_ID_HEADER] = pick_request_id(
                    request.headers.get(REQUEST_ID_HEADER)
                )
            metrics.requests.labels(name, str(response.status_code)).inc()
            if response.status_code == 200:
                metrics.latency.labels(name).observe(time.perf_counter() - started)
            return response

        return answer


def _describe(exc: BaseException) -> str:
    """The exception's type and the first line of its message: one line for the client."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
