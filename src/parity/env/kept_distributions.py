"""This interpreter's environment with each unchanged distribution's facts kept from last time.

Reading ~170 dist-info folders (METADATA, WHEEL, RECORD and its digest) is most of an in-process
capture (~40 ms here); listing each folder and stating its files is a few. So a distribution is
read again only when its folder or any file in it changed (name, size, mtime, inode), when a
file of it was written too recently to trust its timestamp (git's racily-clean rule), or when
its RECORD names a ``.pth`` file (an editable install: its modules live in a folder elsewhere,
which its own files do not describe). Everything else of the capture (interpreter, platform,
native libraries, numerics variables) is read afresh every time: only the part that follows
from files on disk is kept. What is kept lives in one JSON file per interpreter prefix; a file
that cannot be read or written only makes the capture read everything, as without it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from parity.env import probe

if TYPE_CHECKING:
    from parity.core.environment import Environment

FORMAT = 1
# A file written less than this before it was stated may change again within the same
# timestamp on a coarse file system: its distribution is read again next time.
RACY_NS = 2_000_000_000


def _stamp(folder: Path) -> list[Any] | None:
    """What changes when anything the probe reads of ``folder`` changes; None if unreadable."""
    try:
        top = folder.stat()
        stamp: list[Any] = [top.st_mtime_ns, top.st_ino, top.st_size]
        if folder.is_dir():
            with os.scandir(folder) as entries:
                for entry in sorted(entries, key=lambda e: e.name):
                    status = entry.stat(follow_symlinks=True)
                    stamp.append([entry.name, status.st_mtime_ns, status.st_ino, status.st_size])
    except OSError:
        return None
    return stamp


def _newest_ns(stamp: list[Any]) -> int:
    return max([int(stamp[0]), *(int(entry[1]) for entry in stamp[3:])])


def _names_a_pth(folder: Path) -> bool:
    try:
        text = (folder / "RECORD").read_bytes()
    except OSError:
        return False
    return b".pth," in text or b'.pth",' in text


class KeptDistributions:
    """``probe.read_distribution`` answered from what was kept for unchanged folders."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kept: dict[str, list[Any]] = {}
        self.used: dict[str, list[Any]] = {}
        try:
            document = json.loads(path.read_bytes())
            if document.get("format") == FORMAT and document.get("prefix") == sys.prefix:
                self.kept = document["entries"]
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            pass  # nothing usable kept: every distribution is read

    def read(self, site: str, entry: str, deep: bool = False) -> dict[str, object] | None:
        if deep or not entry.endswith((".dist-info", ".egg-info")):
            return probe.read_distribution(site, entry, deep)
        folder = Path(site, entry)
        key = str(folder)
        stamp = _stamp(folder)
        kept = self.kept.get(key)
        if stamp is not None and kept is not None and kept[0] == stamp:
            self.used[key] = kept
            return dict(kept[1])
        dist = probe.read_distribution(site, entry, deep)
        if (
            dist is not None
            and stamp is not None
            and time.time_ns() - _newest_ns(stamp) > RACY_NS
            and not _names_a_pth(folder)
        ):
            self.used[key] = [stamp, dist]
        return dist

    def save(self) -> None:
        """Keep what this capture read, if it differs from what was kept (best effort)."""
        if self.used == self.kept:
            return
        document = {"format": FORMAT, "prefix": sys.prefix, "entries": self.used}
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(document, separators=(",", ":")))
            os.replace(temporary, self.path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()


def kept_file(cache_dir: Path) -> Path:
    """The file for this interpreter's prefix in ``cache_dir`` (one per venv)."""
    digest = hashlib.blake2b(sys.prefix.encode(), digest_size=8).hexdigest()
    return cache_dir / f"distributions-{digest}.json"


def capture_here(cache_dir: Path) -> Environment:
    """The running interpreter's environment, as ``capture()`` gives it, reading only the
    distributions that changed since the last capture kept in ``cache_dir``."""
    from parity.core.environment import Environment  # lazy: packaging, as capture() does

    memo = KeptDistributions(kept_file(cache_dir))
    environment = Environment.from_dict(probe.collect(False, memo.read))
    memo.save()
    return environment
