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
from parity.data.scan import ScannedFile, Settle
from parity.data.statcache import Entries, StatCache, signature


class Unchanged:
    """Settles an add's unchanged files (``hook`` gives the scan's ``settle``) and keeps what it
    took: each file's previous entry (``copied``) and stat signature (``signatures``)."""

    def __init__(self, cache: StatCache, key: str, previous: PreviousBody) -> None:
        self._cache = cache
        self._key = key
        self._previous = previous
        self.entries: Entries | None = None  # the folder's stat cache, when it was read whole
        self.copied: dict[str, Entry] = {}
        self.signatures: dict[str, str] = {}

    def hook(self) -> Settle:
        """The scan's ``settle``: one closure over plain locals (it runs once per file, 20,000
        times an add, so every attribute lookup shows)."""
        by_path, copied, signatures = self._previous.by_path, self.copied, self.signatures
        executable = stat_module.S_IXUSR
        # The clean tree is one small blob; the stat cache entries of 20,000 files are 20,000
        # rows: read those only when there is no clean tree of the previous version.
        names = None
        if self._previous.version_id:
            names = self._cache.clean_tree(self._key, self._previous.version_id)
        if names is None:
            self.entries = entries = self._cache.under(self._key)
            prefix = self._key + "/"
            # Known by its own entry, with the digest the previous version records for it.
            names = {
                name: entry[: -len(digest)]
                for name, old in by_path.items()
                if (entry := entries.get(prefix + name)) is not None
                and isinstance(digest := old.get("digest"), str)
                and digest
                and entry.endswith(digest)
            }

        def settle(name: str, st: os.stat_result) -> bool:
            signed = f"{st.st_size}:{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:"
            if names.get(name) != signed:
                return False
            old = by_path.get(name)
            # The entry is copied as it is: it must say what the file is now.
            mode = EXECUTABLE if st.st_mode & executable else REGULAR
            if old is None or old.get("size") != st.st_size or old.get("mode") != mode:
                return False
            copied[name] = old
            signatures[name] = signed
            return True

        return settle

    def take(self, file: ScannedFile, digest: str) -> bool:
        """Whether ``file``, which the stat cache says holds ``digest`` (its signature matched
        there), is the previous version's, as is: for files the scan did not settle (a single
        file, one whose clean tree entry is out of date)."""
        old = self._previous.by_path.get(file.path)
        if old is None or old.get("digest") != digest:
            return False
        mode = EXECUTABLE if file.executable else REGULAR
        if old.get("size") != file.size or old.get("mode") != mode:
            return False
        self.copied[file.path] = old
        self.signatures[file.path] = signature(file.stat)
        return True
