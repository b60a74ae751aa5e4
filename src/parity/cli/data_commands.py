"""``parity data``: version files and folders next to git (add, status, checkout, log, gc, fsck).

``parity data push | pull | validate`` are mounted on this group from their own module.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from parity.cli.output import JSON_OPTION, print_json, say

PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


@click.group("data")
def data_group() -> None:
    """Version data files and folders; git versions their small PATH.parity pointers."""


def _quiet(_done: int, _total: int) -> None:
    pass


@contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr, only on a TTY, shown once the work takes > 1 s."""
    if not sys.stderr.isatty():
        yield _quiet
        return
    import time

    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    from parity.cli.output import err_console

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err_console(),
        transient=True,
    )
    started = time.monotonic()
    task = bar.add_task(description, total=None)
    shown = False

    def update(done: int, total: int) -> None:
        nonlocal shown
        if not shown and time.monotonic() - started > 1.0:
            bar.start()
            shown = True
        bar.update(task, completed=done, total=total or None)

    try:
        yield update
    finally:
        if shown:
            bar.stop()


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


@data_group.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@JSON_OPTION
def add(paths: tuple[Path, ...], json_output: bool) -> None:
    """Version files or folders: store new content, write PATH.parity for git."""
    from parity.api.data import add_data
    from parity.workspace import open_workspace

    workspace = open_workspace()
    results = []
    try:
        for path in paths:
            with progress_bar(f"adding {path}") as update:
                results.append(add_data(workspace, path, progress=update))
    finally:
        workspace.close()
    if json_output:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        state = "new version" if r.changed else "unchanged"
        say(
            f"{r.pointer.name}: {state} {r.data_version[:12]} · {r.files} files · "
            f"{_human(r.size)} · read {r.files_read} · stored {_human(r.bytes_stored)} new"
        )
