"""Capture what a run is made from (code state, environment) without holding the run up.

The code state is read at once (two or three git calls, a few milliseconds), so it is the tree
as it was when the run started, before the run itself writes anything. The environment, the slow
part, is captured in a thread and attached when done; ``end`` and ``environment_id`` wait for it.
The environment is captured once per process and reused while no site-packages folder changes
(installing or removing a package changes its folder's mtime), since it is the slow part.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path

from parity.core.environment import Environment
from parity.env.capture import capture
from parity.env.records import store_environment
from parity.store.records import RecordStore
from parity.tracking.code_state import capture_code_state
from parity.tracking.records import store_code_state

_cache_lock = threading.Lock()
_cached: tuple[tuple[tuple[str, int], ...], Environment] | None = None


def _site_stamp() -> tuple[tuple[str, int], ...]:
    stamp = []
    for entry in sys.path:
        try:
            stamp.append((entry, Path(entry or ".").stat().st_mtime_ns))
        except OSError:
            continue
    return tuple(stamp)


def current_environment() -> Environment:
    """This interpreter's environment, captured once and reused while nothing is installed."""
    global _cached
    with _cache_lock:
        stamp = _site_stamp()
        if _cached is not None and _cached[0] == stamp:
            return _cached[1]
        environment = capture()
        _cached = (stamp, environment)
        return environment


class SourceCapture:
    """A thread capturing the code state of ``folder`` and an environment into ``records``."""

    def __init__(
        self,
        records: RecordStore,
        folder: Path,
        clock: Callable[[], int],
        attach: Callable[[str | None, str | None], None],
        python: str | None = None,
    ) -> None:
        self._records = records
        self._clock = clock
        self._attach = attach
        self._python = python
        self.environment_id: str | None = None
        self.error: BaseException | None = None
        state = capture_code_state(folder, records.objects)
        self.code_id = None if state is None else store_code_state(records, state, clock())
        self._thread = threading.Thread(target=self._run, name="parity-capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            environment = capture(self._python) if self._python else current_environment()
            self.environment_id = store_environment(self._records, environment, self._clock())
        except BaseException as exc:  # reported by wait(); a capture must not kill the run
            self.error = exc
        try:
            self._attach(self.code_id, self.environment_id)
        except BaseException as exc:
            self.error = self.error or exc

    def wait(self) -> None:
        """Block until the capture is stored; raise what went wrong, once."""
        self._thread.join()
        if self.error is not None:
            error, self.error = self.error, None
            raise error
