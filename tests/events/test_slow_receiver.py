"""A receiver that answers 200 and then drips its body one byte a second does not hold a
command (nor the delivery lock) past its delivery budget."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from parity.core.events import VERSION_REGISTERED
from parity.events.delivery import deliver
from parity.workspace import init_workspace

SECRET = "test-secret-0123456789abcdef"


@contextmanager
def _dripping_receiver() -> Iterator[str]:
    """Answers 200 at once, then sends its body one byte a second until stopped."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
            while not stop.is_set():
                try:
                    conn.sendall(b"x")
                except OSError:
                    break
                time.sleep(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stop.set()
        thread.join(5)
        listener.close()


def test_a_dripping_receiver_does_not_hold_a_command_past_its_budget(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    workspace, _ = init_workspace(tmp_path / "ws", environ={})
    with _dripping_receiver() as url:
        workspace.outbox.add_hook(url, (VERSION_REGISTERED,), "HOOK_SECRET", "alice")
        workspace.outbox.emit(VERSION_REGISTERED, {"model": "bc"}, "alice")
        started = time.monotonic()
        done = deliver(workspace.outbox, budget_s=2.0)  # what a command does after its change
        took = time.monotonic() - started
        # The 200 came with the headers: the attempt counts as delivered, body unread.
        assert [a.status for a in done.delivered] == [200]
        assert took < 6, took
        # The lock was let go: another round can take it at once.
        again = time.monotonic()
        deliver(workspace.outbox, budget_s=1.0)
        assert time.monotonic() - again < 3
    workspace.close()
