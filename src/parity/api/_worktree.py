"""Where versioned data sits in the work tree: data paths, their pointers, the stat cache."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from parity.core.errors import NotFoundError, ParityError, UsageError
from parity.data.git import history
from parity.data.manifest import DataVersion
from parity.data.manifest_body import PreviousBody
from parity.data.pointer import (
    SUFFIX,
    Pointer,
    check_target_name,
    find_pointers,
    pointer_path,
    read_pointer,
    target_of,
)
from parity.data.statcache import StatCache
from parity.data.status import data_status, expected_files
from parity.data.versions import load_body, load_version
from parity.workspace import Workspace

STAT_CACHE = Path("cache") / "stat.db"
# How many of a pointer's past commits are compared with its files to find the ones they hold.
_LOOKBACK = 10


def data_target(workspace: Workspace, path: Path) -> tuple[Path, str]:
    """The absolute data path for ``path`` (a data path or its pointer) and its cache key
    (the path relative to the workspace root, POSIX)."""
    # Resolve the folders above, not the data path itself: a symlinked folder is versioned
    # where it appears, and the workspace root is a resolved path.
    absolute = Path(os.path.normpath(Path.cwd() / path))
    absolute = absolute.parent.resolve() / absolute.name
    if absolute.name.endswith(SUFFIX) and absolute.name != SUFFIX:
        absolute = target_of(absolute)
    try:
        relative = absolute.relative_to(workspace.root)
    except ValueError as exc:
        raise UsageError(
            f"{path} is outside the workspace {workspace.root}",
            hint="version data inside the project folder",
        ) from exc
    if not relative.parts or relative.parts[0] in (".parity", ".git"):
        raise UsageError(f"{path} cannot be versioned", hint="give a file or folder of your data")
    check_target_name(absolute)
    return absolute, relative.as_posix()


def stat_cache(workspace: Workspace) -> StatCache:
    return StatCache(workspace.parity_dir / STAT_CACHE)


def current_version(
    workspace: Workspace, pointer_file: Path
) -> tuple[Pointer | None, DataVersion | None]:
    """The pointer at ``pointer_file`` and its version, when both are here (else None)."""
    if not pointer_file.is_file():
        return None, None
    pointer = read_pointer(pointer_file)
    try:
        return pointer, load_version(workspace.objects, pointer.data_version)
    except NotFoundError:
        return pointer, None


def current_body(
    workspace: Workspace, pointer_file: Path
) -> tuple[Pointer | None, PreviousBody | None]:
    """The pointer at ``pointer_file`` and its version's record body as stored (verified against
    its id), when both are here: what an add copies unchanged files' entries from."""
    if not pointer_file.is_file():
        return None, None
    pointer = read_pointer(pointer_file)
    try:
        return pointer, PreviousBody(
            load_body(workspace.objects, pointer.data_version), pointer.data_version
        )
    except NotFoundError:
        return pointer, None


def pointer_files(workspace: Workspace, paths: Iterable[Path]) -> list[tuple[Path, Path, str]]:
    """(data path, pointer file, key) for ``paths``, or for every pointer in the workspace."""
    given = list(paths)
    if given:
        targets = [data_target(workspace, p) for p in given]
    else:
        targets = [data_target(workspace, p) for p in find_pointers(workspace.root)]
    return [(target, pointer_path(target), key) for target, key in targets]


def earlier_version(
    workspace: Workspace, cache: StatCache, target: Path, key: str, pointer_file: Path
) -> DataVersion | None:
    """The version ``target``'s files came from, among those its pointer had in git history
    (stored here): the one most of them still equal, newest first on a tie; None if none.

    After ``git pull`` moved a pointer, the files still hold the version it named before: a file
    equal to that version's is no change of the user's (its content is stored), and checkout may
    replace it; a file equal to no version stays protected.
    """
    try:
        commits = history(pointer_file)[:_LOOKBACK]
    except ParityError:  # not in a git repository, or no git: no history to search
        return None
    best: tuple[int, str] | None = None
    for commit in commits:
        if commit.pointer is None:
            continue
        version_id = commit.pointer.data_version
        try:
            expected = expected_files(load_body(workspace.objects, version_id))
        except NotFoundError:  # never pulled here: not what these files came from
            continue
        status = data_status(target, key, version_id, expected, cache)
        equal = len(expected) - len(status.modified) - len(status.deleted)
        if status.clean:
            return load_version(workspace.objects, version_id)
        if equal > 0 and (best is None or equal > best[0]):
            best = (equal, version_id)
    return load_version(workspace.objects, best[1]) if best else None
