"""The progress callback services accept: ``progress(bytes_done, bytes_to_do)``.

The CLI passes one that draws a Rich bar on a TTY; the default does nothing (services never
print)."""

from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int], None]


def no_progress(_done: int, _total: int) -> None:
    """The default: report nothing."""
