"""Walk a file or folder: every regular file with its stat, and the folders left empty."""

from __future__ import annotations

import os
import stat as stat_module
from dataclasses import dataclass
from pathlib import Path

from parity.core.errors import UsageError
from parity.data.statcache import Stat


@dataclass(slots=True)
class ScannedFile:
    path: str  # relative to the scanned folder, POSIX; the file's own name for a single file
    full: str  # the path to open
    stat: Stat
    executable: bool

    @property
    def size(self) -> int:
        return self.stat[0]


@dataclass(frozen=True)
class Scan:
    kind: str  # "folder" or "file"
    files: list[ScannedFile]
    empty_folders: list[str]


def stat_of(result: os.stat_result) -> Stat:
    return (result.st_size, result.st_mtime_ns, result.st_ctime_ns, result.st_ino)


def _executable(mode: int) -> bool:
    return bool(mode & stat_module.S_IXUSR)


def scan(target: Path) -> Scan:
    """Regular files are listed (symlinks to files are followed); symlinked folders, sockets
    and devices are not data and are skipped."""
    try:
        top = target.stat()
    except FileNotFoundError as exc:
        raise UsageError(f"{target} does not exist", hint="check the path") from exc
    if stat_module.S_ISREG(top.st_mode):
        return Scan(
            "file",
            [ScannedFile(target.name, str(target), stat_of(top), _executable(top.st_mode))],
            [],
        )
    if not stat_module.S_ISDIR(top.st_mode):
        raise UsageError(f"{target} is neither a file nor a folder", hint="add a file or folder")
    files: list[ScannedFile] = []
    empty: list[str] = []
    stack: list[tuple[str, str]] = [(str(target), "")]
    while stack:
        folder, relative = stack.pop()
        count = 0
        with os.scandir(folder) as entries:
            for entry in entries:
                name = relative + entry.name
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, name + "/"))
                    count += 1
                    continue
                try:
                    result = entry.stat()
                except FileNotFoundError:
                    continue  # deleted while we looked, or a dangling link
                if stat_module.S_ISREG(result.st_mode):
                    files.append(
                        ScannedFile(name, entry.path, stat_of(result), _executable(result.st_mode))
                    )
                    count += 1
        if count == 0 and relative:
            empty.append(relative.rstrip("/"))
    files.sort(key=lambda f: f.path)
    return Scan("folder", files, sorted(empty))
