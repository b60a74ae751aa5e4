"""How a failed file-system call is told to the user: one line, a hint, and the family that says
what to do next.

The file system reports why in ``errno``; the user needs to know whether to change the input
(a name too long, a symlink loop: exit 2), look elsewhere (not found: 3), or fix the machine
(permissions, a read-only or full disk: 5). Pure: it reads the exception, never the disk.
"""

from __future__ import annotations

import errno
import os

from parity.core.errors import NotFoundError, ParityError, StorageError, UsageError

_PERMISSIONS = "check its permissions and owner with ls -l, or run as the user who owns it"


def file_error(
    exc: OSError, path: str | os.PathLike[str] | None = None, action: str = "use"
) -> ParityError:
    """The ParityError for ``exc``, raised while trying to ``action`` ``path`` (default: the
    file the exception names)."""
    named = path if path is not None else (exc.filename or "a file")
    # A name that is not UTF-8 is shown with \\x escapes: printed raw, it would fail again.
    where = os.fsencode(named).decode("utf-8", "backslashreplace")
    code = exc.errno
    reason = exc.strerror or str(exc)
    if code == errno.ENOENT:
        return NotFoundError(f"{where} does not exist", hint="check the path")
    if code in (errno.EACCES, errno.EPERM):
        return StorageError(f"cannot {action} {where}: permission denied", hint=_PERMISSIONS)
    if code == errno.EROFS:
        return StorageError(
            f"cannot {action} {where}: the file system is read-only",
            hint="work on a writable disk, or remount it read-write",
        )
    if code in (errno.ENOSPC, errno.EDQUOT):
        return StorageError(f"cannot {action} {where}: no space left", hint="free some disk space")
    if code == errno.ENAMETOOLONG:
        return UsageError(
            f"cannot {action} {where}: the name is longer than the file system allows",
            hint="use a shorter file or folder name",
        )
    if code == errno.ELOOP:
        return UsageError(
            f"cannot {action} {where}: it is a symlink loop (a link that leads back to itself)",
            hint="remove the link or point it at a real file",
        )
    if code == errno.EISDIR:
        return UsageError(f"cannot {action} {where}: it is a folder", hint="give a file")
    if code == errno.ENOTDIR:
        return UsageError(
            f"cannot {action} {where}: a file stands where a folder is expected",
            hint="move that file away",
        )
    return StorageError(f"cannot {action} {where}: {reason}", hint="check the disk and the path")
