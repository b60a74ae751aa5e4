"""Run a wrapped command: its output shown live and kept (the tail), its signals passed on.

The child's stdout and stderr go through pipes that two threads copy to ours as the bytes
arrive, keeping the last ``TAIL_BYTES`` of each. Ctrl-C reaches the child from the terminal (same
process group), so this process ignores SIGINT while it waits and reports what the child did;
SIGTERM sent to this process is passed on to the child.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

TAIL_BYTES = 64 * 1024
_READ_BLOCK = 64 * 1024


@dataclass(frozen=True)
class ChildResult:
    exit_code: int  # the child's code, or 128 + N when signal N ended it (as a shell reports)
    signalled: bool
    stdout_tail: bytes
    stderr_tail: bytes


class _Tee(threading.Thread):
    def __init__(self, source: IO[bytes], target: IO[bytes]) -> None:
        super().__init__(daemon=True)
        self.source = source
        self.target = target
        self.tail = bytearray()

    def run(self) -> None:
        fd = self.source.fileno()
        while block := os.read(fd, _READ_BLOCK):
            try:
                self.target.write(block)
                self.target.flush()
            except (OSError, ValueError):
                pass  # our own output is gone (closed pipe); keep recording the child's
            self.tail += block
            if len(self.tail) > 2 * TAIL_BYTES:
                del self.tail[:-TAIL_BYTES]
        self.source.close()


def run_child(
    command: Sequence[str],
    env: Mapping[str, str],
    stdout: IO[bytes],
    stderr: IO[bytes],
    cwd: Path | None = None,
) -> ChildResult:
    """Run ``command`` (in ``cwd``, default this process's folder) to its end; raises OSError
    when it cannot be started."""
    forwarder = _Forwarder()
    previous = forwarder.install()  # before the child exists: no signal may slip past
    try:
        process = subprocess.Popen(
            list(command),
            env=dict(env),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
        )
        forwarder.attach(process)
        assert process.stdout is not None
        assert process.stderr is not None
        tees = [_Tee(process.stdout, stdout), _Tee(process.stderr, stderr)]
        for tee in tees:
            tee.start()
        code = process.wait()
        for tee in tees:
            tee.join()
    finally:
        _restore(previous)
    signalled = code < 0
    return ChildResult(
        exit_code=128 - code if signalled else code,
        signalled=signalled,
        stdout_tail=bytes(tees[0].tail[-TAIL_BYTES:]),
        stderr_tail=bytes(tees[1].tail[-TAIL_BYTES:]),
    )


class _Forwarder:
    """Passes SIGTERM on to the child; one that arrives before the child starts waits for it."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.pending: int | None = None

    def install(self) -> dict[int, Any]:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {
            signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
            signal.SIGTERM: signal.signal(signal.SIGTERM, self.forward),
        }

    def forward(self, signum: int, _frame: object) -> None:
        if self.process is None:
            self.pending = signum
        elif self.process.poll() is None:
            self.process.send_signal(signum)

    def attach(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        if self.pending is not None:
            process.send_signal(self.pending)


def _restore(previous: Mapping[int, Any]) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, handler)
