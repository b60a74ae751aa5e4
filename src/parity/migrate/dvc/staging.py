"""Staging one DVC output: its bytes laid out in a scratch folder, as ``dvc checkout`` would,
for Parity's ``data add`` machinery to version (same bytes, Parity's hashing and dedup)."""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from pathlib import Path

from parity.core.errors import UsageError
from parity.migrate.dvc.files import DvcOutput
from parity.migrate.dvc.objects import DvcObjects


def stage_output(
    objects: DvcObjects,
    output: DvcOutput,
    scratch: Path,
    advance: Callable[[int], None] = lambda _n: None,
) -> Path:
    """Write ``output``'s content under ``scratch`` (a fresh folder), named as in the work tree;
    returns that path. Every object is verified against DVC's md5 on the way."""
    target = scratch / posixpath.basename(output.path)
    if not output.is_dir:
        objects.copy_to(output.md5, output.legacy, target, advance=advance)
        return target
    target.mkdir()
    for entry in objects.manifest(output.md5, output.legacy):
        relative = posixpath.normpath(entry.path)
        if relative.startswith("../") or relative in ("..", ".") or posixpath.isabs(relative):
            raise UsageError(
                f"DVC folder manifest of {output.path} names {entry.path!r}, outside the folder",
                hint="check it with 'dvc status -c'",
            )
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        objects.copy_to(entry.md5, output.legacy, destination, entry.executable, advance)
    return target
