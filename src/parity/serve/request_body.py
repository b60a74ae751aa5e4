"""Read a request's body up to a size limit, refusing a larger one before it is all received."""

from __future__ import annotations

from starlette.requests import Request

from parity.serve.limits import DEFAULT_MAX_BODY_BYTES

__all__ = ["DEFAULT_MAX_BODY_BYTES", "BodyTooLarge", "read_body"]


class BodyTooLarge(Exception):
    """The body is larger than the server takes; the message says the limit."""


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length", "")
    # A declared length over the limit is refused before a byte of the body is read.
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(_message(limit))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:  # a chunked body, or one longer than it declared
            raise BodyTooLarge(_message(limit))
        chunks.append(chunk)
    return b"".join(chunks)


def _message(limit: int) -> str:
    return (
        f"the body is larger than this server takes ({limit} bytes); send fewer rows per"
        " request, or start the server with a larger --max-body-mib"
    )
