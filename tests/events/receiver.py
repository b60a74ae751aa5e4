"""A webhook receiver for tests: a real HTTP server on a free loopback port, in a thread.

It checks every payload with ``parity.api.events.verify_signature`` (401 when it fails), answers
the first ``fail_first`` well-signed requests with 500, and keeps every request it saw.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from parity.api.events import verify_signature


@dataclass
class Seen:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


@dataclass
class Receiver:
    url: str
    secret: str
    fail_first: int = 0
    seen: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[dict[str, Any]]:
        with self.lock:
            return [s.payload for s in self.seen if s.status == 200]

    def statuses(self) -> list[int]:
        with self.lock:
            return [s.status for s in self.seen]


@contextmanager
def webhook_receiver(secret: str, fail_first: int = 0) -> Iterator[Receiver]:
    receiver: Receiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            ok = verify_signature(
                receiver.secret,
                self.headers.get("Parity-Timestamp", ""),
                body,
                self.headers.get("Parity-Signature", ""),
            )
            with receiver.lock:
                if not ok:
                    status = 401
                elif receiver.fail_first > 0:
                    receiver.fail_first -= 1
                    status = 500
                else:
                    status = 200
                receiver.seen.append(Seen(status, dict(self.headers.items()), body))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = Receiver(f"http://127.0.0.1:{server.server_address[1]}/hook", secret, fail_first)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
