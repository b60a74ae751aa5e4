"""``POST /feedback``: ground-truth labels for predictions this server answered.

A client sends the request ids its prediction responses carried (``X-Request-Id``) with the
true labels, as a list of ``{request_id, label[, row]}`` or as columns. The server first hands
its queued prediction log to the store, so a request answered a moment ago is found, then keeps
each label joined to its logged row. Labels whose request no logged row answered (not sampled,
or never served here) are counted and named in the answer, not kept.

Errors are ``{"error": message}``: 400 for a body that is not JSON, 413 for one over the limit,
422 for labels that are not well formed, 409 when this server keeps no prediction log, 503 when
the store is away.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from parity.core.errors import ParityError, UsageError
from parity.core.feedback import LabelReceipt, read_feedback
from parity.serve.request_body import BodyTooLarge, read_body
from parity.serve.responses import error_response, json_response
from parity.serve.state import ServingState

# Labels are small: a body of 10,000 of them is well under this.
MAX_FEEDBACK_BYTES = 4 << 20


@runtime_checkable
class LabelSink(Protocol):
    """A prediction sink that also keeps labels (``parity.monitor``'s stores are)."""

    def store_labels(self, model: str, labels: Any, now_ms: int) -> LabelReceipt: ...


def routes(state: ServingState, max_body_bytes: int = MAX_FEEDBACK_BYTES) -> list[Route]:
    log = state.log
    sink = log.sink if log is not None and isinstance(log.sink, LabelSink) else None

    def keep(items: list[dict[str, Any]]) -> LabelReceipt:
        assert log is not None and sink is not None  # noqa: PT018 - checked before the call
        log.flush()  # rows still queued would otherwise look unknown
        return sink.store_labels(state.version.name, items, log.clock())

    async def feedback(request: Request) -> Response:
        if log is None or sink is None:
            return error_response(
                "this server keeps no prediction log, so labels cannot be joined to predictions;"
                " start it with a --log-sample above 0",
                409,
            )
        try:
            body = await read_body(request, max_body_bytes)
        except BodyTooLarge:
            return error_response(
                f"the body is larger than {max_body_bytes} bytes; send the labels in parts", 413
            )
        try:
            items = read_feedback(orjson.loads(body))
        except orjson.JSONDecodeError as exc:
            return error_response(f"the body is not valid JSON: {exc}", 400)
        except UsageError as exc:
            return error_response(str(exc), 422)
        try:
            receipt = await run_in_threadpool(keep, items)
        except ParityError as exc:
            return error_response(f"the labels could not be kept: {exc}", 503)
        answer = {"model": state.version.ref, **receipt.to_dict()}
        if receipt.hints:
            answer["hint"] = " ".join(f"{h[0].upper()}{h[1:]}." for h in receipt.hints)
        return json_response(answer)

    return [Route("/feedback", feedback, methods=["POST"])]
