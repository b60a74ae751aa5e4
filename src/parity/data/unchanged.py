"""The files of a folder an add takes from the previous version as they are, settled while the
folder is scanned: no read, no hash, no object built, one string comparison each.

A file is unchanged when its stat signature (size, mtime, ctime, inode) is the one the stat cache
vouches for: either in the clean tree remembered for the previous version (the last add or
status found the folder holding exactly that version, with these signatures), or in the file's
own stat cache entry, next to the digest the previous version records for it. The cache records
neither for a file modified too close to the scan that read it (git's racily clean rule, see
``statcache``), so a file rewritten within the timestamp granularity is never settled here: it
is read and hashed. Its previous entry is then copied into the new record (``manifest_body``),
provided it still says what the file is (size, mode).
"""

from __future__ import annotations

import os
import stat as stat_module

from parity.data.manifest import EXECUTABLE, REGULAR
from parity.data.manifest_body import Entry, PreviousBody
from parity.data.scan import ScannedFile
from parity.data.statcache import Entries, StatCache, signature


class Unchanged:
    """Settles an add's unchanged files (``settle``, the scan's hook) and keeps what it took:
    each file's previous entry (``copied``) and stat signature (``signatures``)."""

    def __init__(self, cache: StatCache, key: str, previous: PreviousBody) -> None:
        self._cache = cache
        self._key = key
        self._previous = previous
        self._names: dict[str, str] | None = None
        self._entries: Entries | None = None
        self._loaded = False
        self.copied: dict[str, Entry] = {}
        self.signatures: dict[str, str] = {}

    @property
    def entries(self) -> Entries | None:
        """The folder's stat cache entries, when settling needed them all (no clean tree)."""
        return self._entries

    def _load(self) -> None:
        # The clean tree is one small blob; the stat cache entries of 20,000 files are 20,000
        # rows: read those only when there is no clean tree of the previous version.
        self._loaded = True
        if self._previous.version_id:
            self._names = self._cache.clean_tree(self._key, self._previous.version_id)
        if self._names is None:
            self._entries = self._cache.under(self._key)

    def settle(self, name: str, st: os.stat_result) -> bool:
        """Whether the file ``name`` (its path in the folder) is the previous version's, as is."""
        old = self._previous.by_path.get(name)
        if old is None:
            return False
        if not self._loaded:
            self._load()
        signed = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:"
        if self._names is not None:
            if self._names.get(name) != signed:
                return False
        else:
            entry = self._entries.get(f"{self._key}/{name}") if self._entries else None
            if entry is None or entry != f"{signed}{old.get('digest')}":
                return False
        return self._copy(name, old, st.st_size, st.st_mode & stat_module.S_IXUSR, signed)

    def take(self, file: ScannedFile, digest: str) -> bool:
        """Whether ``file``, which the stat cache says holds ``digest`` (its signature matched
        there), is the previous version's, as is: for files the scan did not settle (a single
        file, one whose clean tree entry is out of date)."""
        old = self._previous.by_path.get(file.path)
        if old is None or old.get("digest") != digest:
            return False
        return self._copy(file.path, old, file.size, file.executable, signature(file.stat))

    def _copy(self, name: str, old: Entry, size: int, executable: object, signed: str) -> bool:
        # The entry is copied as it is: it must say what the file is now.
        if old.get("size") != size or old.get("mode") != (EXECUTABLE if executable else REGULAR):
            return False
        self.copied[name] = old
        self.signatures[name] = signed
        return True
