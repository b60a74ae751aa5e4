"""Whether a git work tree is still as it was: a stat stamp of everything ``git status`` reads.

A process that starts many runs (a sweep, a notebook) would ask git for the same status every time,
and the fork costs more than the run itself. A stamp holds the stat of every file the status depends
on: git's own (HEAD, the index, the refs HEAD leads to, packed-refs, exclude files, what they link
to), every tracked file and every file and folder git does not ignore, each folder with the names it
held (a folder's marked as one). While every stat is the same, git would answer the same, so the
status read with the stamp is reused; any difference sends the next run back to git.

A stamp is taken *before* the status it vouches for: a file changed while git reads the tree shows
as changed to the stamp the next time. A file written within the file system's timestamp granularity
of the stamp could change again without its stat moving, so such a file's content (a folder's names)
is kept too and compared at every check (git's answer to "racily clean" entries), up to
``MAX_RECENT_BYTES``; a ``.gitignore`` or a file of git's own written then means no stamp (git
listed what it tracks and ignores from it, perhaps before the write). "Recent" is measured on the
file system's clock where a clock file can be touched (``parity.data.statcache`` does the same for
data).

Folders count by their names: a folder whose stat moved but that holds the same names (a
temporary file made and removed, SQLite's journal in ``.parity``) changes nothing git reports;
a new name might be an untracked file, so it does. A tree with submodules, a sparse checkout
or reftable refs is not stamped, nor one git is pointed at by ``GIT_DIR``, ``GIT_INDEX_FILE`` and
the like (their state lies outside these files), nor one with more than
``MAX_ENTRIES`` entries, where stat-ing it in Python costs about what git costs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

# Past this many files and folders git's own (C, multi-threaded) check is as quick (measured:
# 1,000 tracked files 4 ms kept against 6 ms git; 3,000-4,800 about even; 6,000 git ahead).
MAX_ENTRIES = 3000
# Without a clock file on the tree's file system: the coarsest granularity (FAT: 2 s) and skew.
RACY_WINDOW_NS = 2_000_000_000
# Files written that recently are read at every check, up to this much in all (else no stamp).
MAX_RECENT_BYTES = 1 << 20
SUBMODULE_MODE = "160000"

# (file type and mode, size, mtime_ns, ctime_ns, inode); () for a path that is not there.
Stat = tuple[int, ...]
MISSING: Stat = ()


def stat_of(path: str) -> Stat:
    try:
        info = os.lstat(path)
    except OSError:
        return MISSING
    return (info.st_mode, info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _names(path: str) -> frozenset[str] | None:
    try:
        with os.scandir(path) as entries:  # names only, no Path per entry
            return _named(entries)
    except OSError:
        return None


def _named(entries: Iterable[os.DirEntry[str]]) -> frozenset[str]:
    """The names in a folder, a folder's with a slash: ignore rules can tell a file from a
    folder (``out/`` ignores only folders), so a file replacing a folder of its name counts."""
    return frozenset(
        f"{entry.name}/" if entry.is_dir(follow_symlinks=False) else entry.name for entry in entries
    )


@dataclass
class TreeStamp:
    """Stats of files (absolute path → stat) and folders (→ stat and the names it held).

    Entries written within the clock's granularity before the stamp could change again without
    their stat moving: their content (``recent_files``) or names (``recent_folders``) are
    compared as well, every time (git's answer for its racily clean entries)."""

    files: dict[str, Stat] = field(default_factory=dict)
    folders: dict[str, tuple[Stat, frozenset[str]]] = field(default_factory=dict)
    recent_files: dict[str, bytes] = field(default_factory=dict)
    recent_folders: set[str] = field(default_factory=set)

    def holds(self) -> bool:
        """Whether every file and folder is as stamped (a folder: or holds the same names)."""
        for path, seen in self.files.items():
            if stat_of(path) != seen:
                return False
        for path, content in self.recent_files.items():
            if _content(path) != content:
                return False
        for path, (seen, names) in self.folders.items():
            now = stat_of(path)
            if now == seen and path not in self.recent_folders:
                continue
            if now == MISSING or _names(path) != names:
                return False
            if now != seen:
                self.folders[path] = (now, names)  # the same names: checked once, not each time
        return True


def _content(path: str) -> bytes | None:
    """What a file holds (a symlink: where it points), or None when it cannot be read."""
    try:
        link = Path(path)
        if link.is_symlink():
            return os.fsencode(link.readlink())
        with open(path, "rb") as handle:
            return handle.read(MAX_RECENT_BYTES + 1)
    except OSError:
        return None


def clock_mark(folder: Path | None, tree: Path) -> tuple[int, int]:
    """(now, window) for the racy rule: the mtime a clock file in ``folder`` gets when touched,
    if it is on the tree's file system (window 0), else the system clock with a wide window."""
    wall = (time.time_ns(), RACY_WINDOW_NS)
    if folder is None:
        return wall
    clock = folder / "code-state.clock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with open(clock, "a", encoding="utf-8"):
            pass
        os.utime(clock)  # now, by the file system's clock
        touched = clock.stat()
        if tree.stat().st_dev != touched.st_dev:
            return wall
    except OSError:
        return wall
    return touched.st_mtime_ns, 0


def git_files(git_dirs: Iterable[Path], refs: Iterable[str], excludes: Iterable[Path]) -> list[str]:
    """The files of git's own that a status reads: HEAD, the index, the refs HEAD leads to
    (``refs/heads/main``), packed-refs and the exclude files (a missing one counts: creating it
    changes the answer)."""
    paths = []
    for folder in git_dirs:
        paths += [folder / "HEAD", folder / "index", folder / "packed-refs"]
        paths += [folder / "info" / "exclude", folder / "info" / "attributes"]
        paths += [folder / ref for ref in refs]
    return [str(path) for path in [*paths, *excludes]]


# Variables that point git at another repository, work tree or index than the files stamped.
ELSEWHERE_VARIABLES = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR")


def stampable(git_dirs: Iterable[Path]) -> bool:
    """False for trees whose status depends on more than a stamp holds."""
    if any(os.environ.get(name) for name in ELSEWHERE_VARIABLES):
        return False
    for folder in git_dirs:
        if _index_entries(folder / "index") > MAX_ENTRIES:  # too large: no git calls to find out
            return False
        if (folder / "info" / "sparse-checkout").exists() or (folder / "reftable").exists():
            return False
    return True


def _index_entries(index: Path) -> int:
    """How many entries the index at ``index`` holds, by its header (0 when it cannot tell)."""
    try:
        with open(index, "rb") as handle:
            header = handle.read(12)
    except OSError:
        return 0
    if len(header) < 12 or header[:4] != b"DIRC":
        return 0
    return int.from_bytes(header[8:12], "big")


def tracked_paths(ls_files_stage: bytes) -> list[str] | None:
    """Paths from ``git ls-files -z --stage``; None when a submodule is among them."""
    paths = []
    for entry in ls_files_stage.decode("utf-8", "surrogateescape").split("\0"):
        if not entry:
            continue
        info, _, path = entry.partition("\t")
        if info.split(" ", 1)[0] == SUBMODULE_MODE:
            return None
        paths.append(path)
    return paths


# What git ignores, asked as ``git status`` reports it: a folder only when a pattern matches the
# folder itself (``ls-files --others --ignored --directory`` also names a folder that merely
# holds nothing but ignored files, where a new file would be untracked).
IGNORED_STATUS = ("status", "--porcelain=v2", "-z", "--ignored=matching", "--untracked-files=all")


def ignored_paths(status_ignored: bytes) -> set[str]:
    """The ignored paths in the output of ``git <IGNORED_STATUS>`` (folders end with a slash)."""
    ignored = set()
    skip_next = False
    for entry in status_ignored.decode("utf-8", "surrogateescape").split("\0"):
        if skip_next:  # the original path of a rename
            skip_next = False
        elif entry.startswith("! "):
            ignored.add(entry[2:])
        else:
            skip_next = entry.startswith("2 ")
    return ignored


def take_stamp(
    root: Path,
    tracked: list[str],
    ignored: set[str],
    own_files: list[str],
    mark: tuple[int, int],
) -> TreeStamp | None:
    """The stamp of the tree at ``root`` now, or None when it is too large or holds an entry
    written too recently to trust (``mark`` is (now, window) on the file system's clock)."""
    stamp = TreeStamp()
    own = {*own_files, *map(os.path.realpath, own_files)}  # git reads these through links
    for path in own:
        stamp.files[path] = stat_of(path)
    base = str(root)
    pending = [("", base)]
    while pending:
        relative, folder = pending.pop()
        try:
            with os.scandir(folder) as listing:
                entries = list(listing)
        except OSError:
            return None
        try:
            stamp.folders[folder] = (stat_of(folder), _named(entries))
        except OSError:
            return None
        for entry in entries:
            name = f"{relative}{entry.name}"
            if entry.name == ".git":
                continue
            try:
                is_folder = entry.is_dir(follow_symlinks=False)
            except OSError:
                return None
            if is_folder:
                if f"{name}/" not in ignored:
                    pending.append((f"{name}/", entry.path))
            elif name not in ignored or entry.name in (".gitignore", ".gitattributes"):
                # an ignored .gitignore still says what git ignores beside it, and an ignored
                # .gitattributes how git diffs the files there
                stamp.files[entry.path] = stat_of(entry.path)
        if len(stamp.files) + len(stamp.folders) > MAX_ENTRIES:
            return None
    for path in tracked:  # a tracked file inside an ignored folder counts all the same
        full = f"{base}{os.sep}{path}"
        if full not in stamp.files:
            stamp.files[full] = stat_of(full)
    if len(stamp.files) + len(stamp.folders) > MAX_ENTRIES:
        return None
    return stamp if _compare_recent(stamp, mark, own) else None


def _compare_recent(stamp: TreeStamp, mark: tuple[int, int], own_files: set[str]) -> bool:
    """Mark the entries written within the granularity before ``mark`` to be compared by
    content or names; False when they hold too much to read each time, or when one is a file
    the listings of what git tracks and ignores were read from (git's own, a ``.gitignore``):
    written since ``mark``, it may have changed after git listed the tree, and its content now
    would vouch for a listing made from the old one."""
    now, window = mark
    limit = now - window
    budget = MAX_RECENT_BYTES
    for path, info in stamp.files.items():
        if info and max(info[2], info[3]) >= limit:
            if path in own_files or path.endswith(f"{os.sep}.gitignore"):
                return False
            content = _content(path)
            if content is None or len(content) > budget:
                return False
            budget -= len(content)
            stamp.recent_files[path] = content
    for path, (info, _) in stamp.folders.items():
        if info and max(info[2], info[3]) >= limit:
            stamp.recent_folders.add(path)
    return True
