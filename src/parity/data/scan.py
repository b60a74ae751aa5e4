"""Walk a file or folder: every regular file with its stat, and the folders left empty."""

from __future__ import annotations

import os
import stat as stat_module
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from parity.core.errors import NotFoundError, UsageError
from parity.core.file_errors import file_error
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


# Called with each regular file of a folder (its path in the folder, its stat): True when the
# caller settled it (an add's unchanged file, see ``unchanged``), and it is not listed.
Settle = Callable[[str, os.stat_result], bool]


def stat_of(result: os.stat_result) -> Stat:
    return (result.st_size, result.st_mtime_ns, result.st_ctime_ns, result.st_ino)


def _executable(mode: int) -> bool:
    return bool(mode & stat_module.S_IXUSR)


def printable(name: str) -> str:
    """``name`` as a message can show it: bytes that are not UTF-8 as ``\\xff`` escapes."""
    return os.fsencode(name).decode("utf-8", "backslashreplace")


def _check_name(name: str, where: str) -> None:
    """Records hold paths as UTF-8 text: a name that is not UTF-8 cannot be stored faithfully."""
    if not name.isascii():
        try:
            name.encode("utf-8")
        except UnicodeEncodeError:
            raise UsageError(
                f"{printable(where)} has a file name that is not UTF-8",
                hint="rename it (e.g. convmv -f latin1 -t utf8), then add again",
            ) from None


def _check_link(path: str, shown: str, within: Path | None) -> None:
    """Refuse a symlink that leads out of ``within`` (the workspace): following one would store
    whatever it points at (``/etc/passwd``, a colleague's key) as if it were data."""
    if within is None:
        return
    resolved = os.path.realpath(path)
    if resolved != str(within) and not resolved.startswith(str(within) + os.sep):
        raise UsageError(
            f"{printable(shown)} is a symlink to {resolved}, outside the workspace",
            hint="copy what it points at into the workspace, or pass --follow-symlinks",
        )


def scan(target: Path, within: Path | None = None, settle: Settle | None = None) -> Scan:
    """Regular files are listed (symlinks to files are followed, when ``within`` is given only
    those that stay inside it), but those of a folder that ``settle`` takes; symlinked folders,
    sockets and devices are not data and are skipped. A symlink loop, an unreadable file or
    folder, or a name that is not UTF-8 stops the scan with a one-line error
    (``core.file_errors``)."""
    try:
        top = target.stat()
    except FileNotFoundError as exc:
        raise NotFoundError(f"{target} does not exist", hint="check the path") from exc
    except OSError as exc:
        raise file_error(exc, target, "read") from exc
    if target.is_symlink():
        _check_link(str(target), str(target), within)
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
        # Listed through the folder's descriptor: each file's stat is then relative to it
        # (fstatat), so the kernel does not walk the folder's whole path again for every file.
        try:
            descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        except OSError as exc:
            raise file_error(exc, None, "read") from exc
        try:
            with os.scandir(descriptor) as entries:
                for entry in entries:
                    name = relative + entry.name
                    if not name.isascii():
                        _check_name(entry.name, f"{folder}/{entry.name}")
                    if entry.is_dir(follow_symlinks=False):
                        stack.append((f"{folder}/{entry.name}", name + "/"))
                        count += 1
                        continue
                    try:
                        result = entry.stat()
                    except FileNotFoundError:
                        continue  # deleted while we looked, or a dangling link
                    except OSError as exc:
                        raise file_error(exc, f"{folder}/{entry.name}", "read") from exc
                    if stat_module.S_ISREG(result.st_mode):
                        if entry.is_symlink():
                            full = f"{folder}/{entry.name}"
                            _check_link(full, full, within)
                        count += 1
                        if settle is not None and settle(name, result):
                            continue
                        files.append(
                            ScannedFile(
                                name,
                                f"{folder}/{entry.name}",
                                stat_of(result),
                                _executable(result.st_mode),
                            )
                        )
        except OSError as exc:
            raise file_error(exc, folder, "read") from exc
        finally:
            os.close(descriptor)
        if count == 0 and relative:
            empty.append(relative.rstrip("/"))
    files.sort(key=lambda f: f.path)
    return Scan("folder", files, sorted(empty))
