"""``parity data``: version files and folders next to git (add, status, checkout, history, gc,
fsck).

``parity data push | pull | validate`` are mounted on this group from their own module.
"""

from __future__ import annotations

import datetime
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from parity.api import data
from parity.cli.groups import AliasedGroup
from parity.cli.output import JSON_OPTION, err_console, human_size, print_json, print_table, say
from parity.core.errors import CheckFailed

if TYPE_CHECKING:
    from rich.console import Console

PATHS = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


@click.group("data", cls=AliasedGroup, aliases={"log": "history"})
def data_group() -> None:
    """Version data files and folders; git versions their small PATH.parity pointers."""


def _quiet(_done: int, _total: int) -> None:
    pass


@contextmanager
def progress_bar(
    description: str, console: Console | None = None, delay: float = 1.0
) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr, only on a TTY, shown once the work takes ``delay`` seconds;
    sizes and speed in binary units, as every summary writes them (``console``: elsewhere)."""
    if console is None:
        if not sys.stderr.isatty():
            yield _quiet
            return
        console = err_console()
    from rich.progress import (  # lazy: Rich only loads when a terminal shows the bar
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
    )

    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(binary_units=True),
        # Rich's own speed column counts in decimal megabytes: this one says MiB/s like the rest.
        TextColumn("{task.fields[speed]}"),
        console=console,
        transient=True,
    )
    started = time.monotonic()
    task = bar.add_task(description, total=None, speed="")
    shown = False

    def update(done: int, total: int) -> None:
        nonlocal shown
        if not shown and time.monotonic() - started >= delay:
            bar.start()
            shown = True
        bar.update(task, completed=done, total=total or None)
        speed = bar.tasks[0].speed
        bar.update(task, speed=f"{human_size(speed)}/s" if speed else "")

    try:
        yield update
    finally:
        if shown:
            bar.stop()


@data_group.command("add")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--follow-symlinks",
    is_flag=True,
    help="Store what symlinks to files outside the workspace point at (refused by default).",
)
@JSON_OPTION
def add(paths: tuple[Path, ...], follow_symlinks: bool, json_output: bool) -> None:
    """Version files or folders: store new content, write PATH.parity for git."""
    results = []
    for path in paths:
        with progress_bar(f"adding {path}") as update:
            results.append(data.add(path, progress=update, follow_symlinks=follow_symlinks))
    if json_output:
        print_json([r.to_dict() for r in results])
        return
    for r in results:
        state = "new version" if r.changed else "unchanged"
        say(
            f"{r.pointer.name}: {state} {r.data_version[:12]} · {r.files} files · "
            f"{human_size(r.size)} · read {r.files_read} · stored {human_size(r.bytes_stored)} new"
        )


@data_group.command("status")
@PATHS
@JSON_OPTION
def status(paths: tuple[Path, ...], json_output: bool) -> None:
    """Show added, modified and deleted files against the pointers (default: all)."""
    results = data.status(paths)
    if json_output:
        print_json([r.to_dict() for r in results])
        return
    if not results:
        say("No data versioned yet (parity data add PATH).")
    for r in results:
        if r.clean:
            say(f"{r.path}: up to date ({(r.data_version or '')[:12]})")
            continue
        say(f"{r.path}: {len(r.added)} added, {len(r.modified)} modified, {len(r.deleted)} deleted")
        for label, names in (("added", r.added), ("modified", r.modified), ("deleted", r.deleted)):
            for name in names:
                say(f"  {label}: {name}")


@data_group.command("checkout")
@PATHS
@click.option("--rev", help="Check out the version committed at this git revision.")
@click.option("--force", is_flag=True, help="Overwrite or remove files you changed.")
@JSON_OPTION
def checkout(paths: tuple[Path, ...], rev: str | None, force: bool, json_output: bool) -> None:
    """Make files and folders hold the version their pointers name (default: all)."""
    with progress_bar("checking out") as update:
        done = data.checkout(paths, rev=rev, force=force, progress=update)
    if json_output:
        print_json({key: result.to_dict() for key, result in done})
        return
    for key, result in done:
        say(
            f"{key}: {len(result.written)} written, {len(result.removed)} removed, "
            f"{result.unchanged} unchanged"
            + (f", {len(result.kept)} untracked kept" if result.kept else "")
        )


@data_group.command("history")
@click.argument("path", type=click.Path(path_type=Path))
@JSON_OPTION
def history(path: Path, json_output: bool) -> None:
    """List the versions of PATH from git history, newest first."""
    commits = data.history(path)

    def when(seconds: int) -> str:
        return datetime.datetime.fromtimestamp(seconds, datetime.UTC).isoformat()

    if json_output:
        print_json(
            [
                {
                    "commit": c.commit,
                    "time": when(c.time),
                    "author": c.author,
                    "subject": c.subject,
                    "data_version": c.pointer.data_version if c.pointer else None,
                    "size": c.pointer.size if c.pointer else None,
                    "files": c.pointer.files if c.pointer else None,
                }
                for c in commits
            ]
        )
        return
    if not commits:
        say(f"{path}: no committed versions (commit {path}.parity to start its history)")
        return
    print_table(
        ["time (UTC)", "commit", "data version", "size", "files", "subject"],
        [
            (
                when(c.time)[:19].replace("T", " "),
                c.commit[:10],
                c.pointer.data_version[:12] if c.pointer else "deleted",
                human_size(c.pointer.size) if c.pointer else "",
                c.pointer.files if c.pointer else "",
                c.subject,
            )
            for c in commits
        ],
    )


@data_group.command("gc")
@click.option("--yes", is_flag=True, help="Delete (without it, only show what would go).")
@JSON_OPTION
def gc(yes: bool, json_output: bool) -> None:
    """Remove data versions and packs no pointer (in any git ref), run or model reaches."""
    plan = data.gc(delete=yes)
    if json_output:
        print_json(plan.to_dict())
        return
    verb = "deleted" if plan.deleted else "would delete"
    say(
        f"{verb} {len(plan.delete_versions)} data versions and {len(plan.delete_packs)} packs "
        f"({human_size(plan.bytes)}); kept {len(plan.live_versions)} live versions and "
        f"{plan.kept_packs} packs"
    )
    if plan.leftovers:
        say(
            f"{verb} {len(plan.leftovers)} temp files killed commands left "
            f"({human_size(plan.leftover_bytes)})"
        )
    if not plan.deleted and (plan.delete_versions or plan.delete_packs or plan.leftovers):
        say("run 'parity data gc --yes' to delete them")


@data_group.command("fsck")
@JSON_OPTION
def fsck(json_output: bool) -> None:
    """Re-hash every stored object; report corrupt and missing ones (exit 1 if any)."""
    result = data.fsck()
    if json_output:
        print_json(result.to_dict())
    else:
        for digest, detail in result.corrupt:
            say(f"corrupt: {digest}: {detail}")
        for digest, needed_by in result.missing:
            say(f"missing: {digest} ({needed_by})")
        say(
            f"checked {result.checked} objects: {len(result.corrupt)} corrupt, "
            f"{len(result.missing)} missing"
        )
    if not result.ok:
        raise CheckFailed(
            f"{len(result.corrupt)} corrupt and {len(result.missing)} missing objects",
            hint="restore them from a remote with 'parity data pull --verify'",
        )
