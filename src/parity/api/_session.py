"""Which workspace an API call acts on: the one the caller passed, or the one around the cwd.

Every public API function takes ``workspace=None`` as its last keyword. With None the call opens
the workspace containing the current folder (or ``PARITY_WORKSPACE``) and closes it when done,
so a one-off call from a script leaves no connection open; a caller making many calls opens one
workspace with ``parity.api.workspace.open()`` and passes it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from parity.api._events import deliver_staged
from parity.workspace import Workspace, open_workspace


@contextmanager
def session(workspace: Workspace | None) -> Iterator[Workspace]:
    """``workspace`` itself, or the current folder's workspace, closed on the way out."""
    if workspace is not None:
        yield workspace
        return
    opened = open_workspace()
    try:
        yield opened
        deliver_staged(opened)  # the events of what the call changed, before it returns
    finally:
        opened.close()
