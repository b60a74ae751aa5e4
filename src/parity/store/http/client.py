"""The HTTP client of a Parity server: one keep-alive pool, timeouts, retries of idempotent
calls with backoff, and the server's JSON errors raised again as the same ``ParityError``."""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

import httpx
import orjson

from parity.core.config import masked_url
from parity.core.errors import (
    AccessDenied,
    CheckFailed,
    ConflictError,
    DatabaseBusy,
    NotFoundError,
    ParityError,
    StorageError,
    UsageError,
)

API_PREFIX = "/api/v1"
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_RETRY_STATUSES = frozenset({502, 503, 504})
_BY_CODE: Mapping[int, type[ParityError]] = {
    1: CheckFailed,
    2: UsageError,
    3: NotFoundError,
    4: ConflictError,
    5: StorageError,
}


def segment(value: object) -> str:
    """One path segment, quoted so that no ``/`` or ``..`` in a name can change the path."""
    return quote(str(value), safe="")


class ServerClient:
    """Calls ``/api/v1`` of the server at ``url`` with ``token``."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        timeout_s: float = 30.0,
        attempts: int = 5,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise UsageError(
                f"the server URL {masked_url(url)!r} is not http(s)",
                hint="write it as https://parity.example.org",
            )
        self.url = url.rstrip("/")
        self.token = token  # handed on to processes that act for the same user (a repro's re-run)
        self.attempts = attempts
        headers = {"User-Agent": "parity-client", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(
            base_url=self.url + API_PREFIX,
            headers=headers,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
            transport=transport,
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ServerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # calls ----------------------------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | Path | None = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        retry: bool | None = None,
        timeout_s: float | None = None,
    ) -> httpx.Response:
        """Send one call; retry it (when ``retry``, by default when the method is idempotent)
        on a lost connection or a busy server; raise the server's error as a ParityError.

        ``content`` given as a Path is streamed from that file (read again on each attempt).
        ``timeout_s`` replaces the client's read timeout for this call (a large upload's answer
        comes once the server has stored it)."""
        body: bytes | Path | None = content
        sent_headers = dict(headers or {})
        if json is not None:
            body = orjson.dumps(json, option=orjson.OPT_SERIALIZE_NUMPY)
            sent_headers["Content-Type"] = "application/json"
        elif content is not None:
            sent_headers.setdefault("Content-Type", "application/octet-stream")
        may_retry = method in _IDEMPOTENT if retry is None else retry
        for attempt in range(1, self.attempts + 1):
            try:
                with _opened(body) as sent:
                    response = self._http.request(
                        method,
                        path,
                        content=sent,
                        params=params,
                        headers=sent_headers,
                        timeout=httpx.USE_CLIENT_DEFAULT
                        if timeout_s is None
                        else self._timeout(timeout_s),
                    )
            except httpx.TransportError as exc:
                if may_retry and attempt < self.attempts:
                    _pause(attempt)
                    continue
                raise StorageError(
                    f"cannot reach the Parity server at {masked_url(self.url)}: "
                    f"{type(exc).__name__}",
                    hint="check the URL and that the server is running",
                ) from exc
            if response.status_code in _RETRY_STATUSES and may_retry and attempt < self.attempts:
                _pause(attempt, response.headers.get("Retry-After"))
                continue
            if response.status_code >= 400:
                raise self._error(response)
            return response
        raise AssertionError("unreachable")

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        if not response.content:
            return None
        return orjson.loads(response.content)

    def _timeout(self, read_s: float) -> httpx.Timeout:
        return httpx.Timeout(self._http.timeout.connect, read=read_s, write=read_s, pool=read_s)

    def download(self, path: str, destination: Path, chunk: int = 1 << 20) -> int:
        """GET ``path`` into the file ``destination`` (written from its start on each attempt)
        without holding the body in memory; returns the number of bytes written."""
        for attempt in range(1, self.attempts + 1):
            try:
                with self._http.stream("GET", path) as response:
                    if response.status_code in _RETRY_STATUSES and attempt < self.attempts:
                        _pause(attempt, response.headers.get("Retry-After"))
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise self._error(response)
                    written = 0
                    with open(destination, "wb") as target:
                        for block in response.iter_bytes(chunk):
                            target.write(block)
                            written += len(block)
                    return written
            except httpx.TransportError as exc:
                if attempt < self.attempts:
                    _pause(attempt)
                    continue
                raise StorageError(
                    f"cannot reach the Parity server at {masked_url(self.url)}: "
                    f"{type(exc).__name__}",
                    hint="check the URL and that the server is running",
                ) from exc
        raise AssertionError("unreachable")

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.json("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.json("POST", path, json=body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any) -> Any:
        return self.json("PUT", path, json=body, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.json("DELETE", path, **kwargs)

    def _error(self, response: httpx.Response) -> ParityError:
        try:
            body = orjson.loads(response.content)
            message, code, hint = str(body["error"]), int(body["code"]), body.get("hint")
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return StorageError(
                f"the Parity server at {masked_url(self.url)} answered "
                f"{response.status_code} to {response.request.method} {response.request.url.path}",
                hint="check the server's log",
            )
        if response.status_code in (401, 403):
            return AccessDenied(message, hint)
        if response.status_code == 503 and code == ConflictError.exit_code:
            return DatabaseBusy(message, hint)
        return _BY_CODE.get(code, StorageError)(message, hint)


@contextlib.contextmanager
def _opened(body: bytes | Path | None) -> Iterator[bytes | IO[bytes] | None]:
    """The body to send: bytes as they are, a file opened afresh (httpx sends its length)."""
    if not isinstance(body, Path):
        yield body
        return
    with open(body, "rb") as handle:
        yield handle


def _pause(attempt: int, retry_after: str | None = None) -> None:
    if retry_after and retry_after.isdigit():
        time.sleep(min(float(retry_after), 10.0))
        return
    time.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
