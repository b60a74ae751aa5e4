"""How a run ends by itself: SIGTERM and interpreter exit.

SIGTERM is turned into ``RunTerminated`` (a SystemExit with the shell's code 143), so with-blocks
unwind, the run is marked killed and the process still exits as a terminated one would. A handler
the program installed before is called instead (chained), and an ignored SIGTERM stays ignored.
Signal handlers can only be installed from the main thread; elsewhere nothing is installed.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

TERMINATED_EXIT_CODE = 128 + signal.SIGTERM


class RunTerminated(SystemExit):
    """The process received SIGTERM while a run was active."""

    def __init__(self) -> None:
        super().__init__(TERMINATED_EXIT_CODE)


class TerminationGuard:
    """Installs the SIGTERM handler for one run; ``release`` puts the previous one back."""

    def __init__(self) -> None:
        self.signalled = False
        self._previous: Any = None
        self._installed = False
        if threading.current_thread() is threading.main_thread():
            try:
                self._previous = signal.signal(signal.SIGTERM, self._handle)
                self._installed = True
            except ValueError:  # not the main interpreter
                pass

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        self.signalled = True
        previous = self._previous
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            raise RunTerminated()

    def release(self) -> None:
        if self._installed and threading.current_thread() is threading.main_thread():
            self._installed = False
            if signal.getsignal(signal.SIGTERM) == self._handle:
                signal.signal(signal.SIGTERM, self._previous)
