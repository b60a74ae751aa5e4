"""Capture what a run is made from (code state, environment) without holding the run up.

The code state is read at once (one git call, two when the tree is dirty, a few milliseconds;
the first run of a process also asks for the remotes), so it is the tree
as it was when the run started, before the run itself writes anything. The environment, the slow
part, is captured in a thread and attached when done; ``end`` and ``environment_id`` wait for it.
The environment is captured once per process and reused while no site-packages folder changes
(installing or removing a package changes its folder's mtime), and stored once per workspace.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from parity.core.environment import Environment
from parity.env.capture import capture
from parity.env.records import store_environment
from parity.store.records import RecordStore
from parity.tracking.code_state import capture_code_state
from parity.tracking.records import store_code_state

_cache_lock = threading.Lock()
_cached: tuple[tuple[tuple[str, int], ...], Environment, str] | None = None
_stored: set[tuple[str, str]] = set()  # (workspace stores, environment id) already written


def _site_stamp() -> tuple[tuple[str, int], ...]:
    stamp = []
    for entry in sys.path:
        # A string test: this runs at every run's start, and sys.path holds a dozen entries.
        if entry.rstrip("/").rpartition("/")[2] not in ("site-packages", "dist-packages"):
            continue  # the script's own folder changes whenever it writes a file
        try:
            stamp.append((entry, Path(entry).stat().st_mtime_ns))
        except OSError:
            continue
    return tuple(stamp)


def current_environment() -> tuple[Environment, str]:
    """This interpreter's environment and its id, captured once while nothing is installed."""
    global _cached
    with _cache_lock:
        stamp = _site_stamp()
        if _cached is not None and _cached[0] == stamp:
            return _cached[1], _cached[2]
        environment = capture()
        _cached = (stamp, environment, environment.id)
        return environment, _cached[2]


def _stores_key(records: RecordStore) -> str:
    return records.stores_key


def stored_environment_id(records: RecordStore) -> str | None:
    """This interpreter's environment id when it is known and already in these stores."""
    with _cache_lock:
        if _cached is None or _cached[0] != _site_stamp():
            return None
        environment_id = _cached[2]
    return environment_id if (_stores_key(records), environment_id) in _stored else None


def _store_current(records: RecordStore, clock: Callable[[], int]) -> str:
    environment, environment_id = current_environment()
    key = (_stores_key(records), environment_id)
    if key not in _stored:
        store_environment(records, environment, clock())
        _stored.add(key)
    return environment_id


class SourceCapture:
    """The code state of ``folder``, read now, and an environment captured in a thread.

    ``read`` are the files the run reads: the untracked ones among them are stored with the
    code state. ``mark_folder`` is where the code state may touch its clock file (tree_stamp).

    ``environment_id`` is known at once when this interpreter's environment is cached and
    stored; otherwise ``start(attach)`` captures it in the background and hands it to ``attach``.
    """

    def __init__(
        self,
        records: RecordStore,
        folder: Path,
        clock: Callable[[], int],
        python: str | None = None,
        read: Iterable[Path] = (),
        mark_folder: Path | None = None,
    ) -> None:
        self._records = records
        self._clock = clock
        self._python = python
        self.error: BaseException | None = None
        self._thread: threading.Thread | None = None
        state = capture_code_state(folder, records.objects, read, mark_folder)
        self.code_id = None if state is None else store_code_state(records, state, clock())
        self.environment_id = None if python else stored_environment_id(records)

    def start(self, attach: Callable[[str], None]) -> None:
        """Capture the environment in the background unless it is already known."""
        if self.environment_id is None:
            self._thread = threading.Thread(
                target=self._run, args=(attach,), name="parity-capture", daemon=True
            )
            self._thread.start()

    def _run(self, attach: Callable[[str], None]) -> None:
        try:
            if self._python:
                environment = capture(self._python)
                environment_id = store_environment(self._records, environment, self._clock())
            else:
                environment_id = _store_current(self._records, self._clock)
            attach(environment_id)
            self.environment_id = environment_id
        except BaseException as exc:  # reported by wait(); a capture must not kill the run
            self.error = exc

    def wait(self) -> None:
        """Block until the environment is stored; raise what went wrong, once."""
        if self._thread is not None:
            self._thread.join()
        if self.error is not None:
            error, self.error = self.error, None
            raise error
