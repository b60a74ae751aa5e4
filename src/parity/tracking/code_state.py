"""Capture the code state of a git working tree by asking git (a subprocess, no git library).

One git call answers almost everything: ``git status --porcelain=v2 --branch -z`` gives the commit,
the branch, whether anything changed and the untracked files. ``git config --get-regexp`` gives
the remotes, once per process while no config file git reads changes (a process starting many
runs asks once). Only a dirty tree costs another call, ``git diff HEAD --binary``, whose output
is stored as a blob so the exact uncommitted change can be re-applied later.

Untracked files are listed by name; those the run read (its script, modules it imported, files
named on its command line: ``read`` below) are also stored, so a checkout elsewhere has them.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from parity.core.ids import digest_bytes
from parity.core.run import CodeState, UntrackedFile, strip_credentials
from parity.store.objects.store import ObjectStore
from parity.tracking import tree_stamp
from parity.tracking.tree_stamp import (
    TreeStamp,
    clock_mark,
    git_files,
    ignored_paths,
    stampable,
    take_stamp,
    tracked_paths,
)

GIT_TIMEOUT_SECONDS = 30
MAX_UNTRACKED = 1000
# An untracked file the run read is stored up to this size; a larger one is listed without
# content (data belongs in `parity data add`, not in the code state).
MAX_UNTRACKED_READ_BYTES = 4 << 20


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(
            # No optional locks: a status must not rewrite the index (refreshing its stat data),
            # which would take index.lock from under the user's own git command and move the
            # index's stat under the tree stamp taken just before.
            ["git", "--no-optional-locks", "-C", str(folder), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


class ConfigFacts(NamedTuple):
    """What one ``git config`` call tells: the remote URL without credentials, and the
    user-wide ignore and attributes files configured (None: git's default)."""

    repo_url: str | None
    excludes: str | None
    attributes: str | None


_CONFIG_KEYS = r"^(remote\..*\.url|core\.excludesfile|core\.attributesfile)$"


def _config_facts(folder: Path) -> ConfigFacts:
    result = _git(folder, "config", "--get-regexp", _CONFIG_KEYS)
    if result is None or result.returncode not in (0, 1):  # 1: none of them is set
        return ConfigFacts(None, None, None)
    remotes: dict[str, str] = {}
    files: dict[str, str] = {}
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        name, _, value = line.partition(" ")
        if name.lower().startswith("core."):
            files[name.lower()] = value.strip()
        else:
            remotes[name.removeprefix("remote.").removesuffix(".url")] = value.strip()
    chosen = remotes.get("origin") or next((u for _, u in sorted(remotes.items())), None)
    return ConfigFacts(
        strip_credentials(chosen) if chosen else None,
        files.get("core.excludesfile"),
        files.get("core.attributesfile"),
    )


# What `git config` reads besides the repository's own files, when no variable moves it.
_USER_CONFIGS = ("~/.gitconfig", "~/.config/git/config", "/etc/gitconfig")
ConfigStamp = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, int, int, int], ...]]
_remotes_lock = threading.Lock()
_remotes: dict[Path, tuple[ConfigStamp, ConfigFacts]] = {}


def _git_dirs(root: Path) -> list[Path]:
    """The folders whose ``config`` (and ``config.worktree``) git reads for the tree at ``root``:
    ``.git``, or for a linked worktree the folder its ``.git`` file names and the common one."""
    dot_git = root / ".git"
    if dot_git.is_dir():
        return [dot_git]
    try:
        text = dot_git.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return []
    own = (root / text.removeprefix("gitdir:").strip()).resolve()
    try:
        common = (own / (own / "commondir").read_text(encoding="utf-8").strip()).resolve()
    except (OSError, UnicodeDecodeError):
        return [own]
    return [own, common]


def _config_files(root: Path) -> list[str]:
    files = [folder / name for folder in _git_dirs(root) for name in ("config", "config.worktree")]
    xdg = os.environ.get("XDG_CONFIG_HOME")
    files += [Path(xdg) / "git" / "config"] if xdg else []
    for name in _USER_CONFIGS:
        try:
            files.append(Path(name).expanduser())
        except RuntimeError:  # no home folder to expand ~ to: git reads none there either
            continue
    return [str(path) for path in files]


# Which config files a tree's git reads, by (root, where ~ and XDG point, what .git holds).
_config_paths: dict[tuple[object, ...], list[str]] = {}


def config_stamp(root: Path) -> ConfigStamp:
    """What the remotes git reports for ``root`` follow from: the ``GIT_*`` variables, and the
    inode, size and mtime of every config file git reads (a file not there counts too; git
    rewrites a config by renaming a new file over it, so even an edit within the clock's tick
    shows). Files a config includes are not followed: a remote URL set through an include is
    read again only when a file above changes."""
    environ = os.environ  # keys first: decoding every value costs more than the rest here
    variables = tuple(sorted((k, environ[k]) for k in list(environ) if k.startswith("GIT_")))
    dot_git = tree_stamp.stat_of(f"{root}{os.sep}.git")  # a worktree's file names its folders
    key = (str(root), environ.get("HOME"), environ.get("XDG_CONFIG_HOME"), dot_git)
    files = _config_paths.get(key)
    if files is None:
        files = _config_paths[key] = _config_files(root)
    seen = []
    for path in files:
        try:
            info = Path(path).stat()  # through a symlink: dotfiles are often links
            seen.append((path, info.st_ino, info.st_mtime_ns, info.st_size))
        except OSError:
            seen.append((path, -1, -1, -1))
    return variables, tuple(seen)


def _known_config(root: Path | None, stamp: ConfigStamp | None) -> ConfigFacts | None:
    """The config facts asked of git before for ``root`` with the same config stamp,
    or None when git must be asked."""
    if root is None or stamp is None:
        return None
    with _remotes_lock:
        known = _remotes.get(root)
    return known[1] if known is not None and known[0] == stamp else None


def read_status(output: bytes) -> tuple[str | None, str | None, bool, list[str]]:
    """(commit, branch, dirty, untracked) from ``git status --porcelain=v2 --branch -z``."""
    commit: str | None = None
    branch: str | None = None
    dirty = False
    untracked: list[str] = []
    entries = output.decode("utf-8", "surrogateescape").split("\0")
    skip_next = False
    for entry in entries:
        if skip_next:  # the original path of a rename
            skip_next = False
            continue
        if entry.startswith("# branch.oid "):
            oid = entry.removeprefix("# branch.oid ")
            commit = None if oid == "(initial)" else oid
        elif entry.startswith("# branch.head "):
            head = entry.removeprefix("# branch.head ")
            branch = None if head == "(detached)" else head
        elif entry.startswith("? "):
            untracked.append(entry[2:])
        elif entry[:2] in ("1 ", "2 ", "u "):
            dirty = True
            skip_next = entry.startswith("2 ")
    return commit, branch, dirty, untracked


# Roots found before, by the folder asked about: (the folder resolved, its root).
_roots: dict[str, tuple[str, Path]] = {}


def git_root(folder: Path) -> Path | None:
    """The top of the git work tree holding ``folder`` (a worktree's ``.git`` is a file)."""
    asked = str(folder)
    found = _roots.get(asked)
    if found is not None and _still_root(*found):
        return found[1]
    start = folder.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            if len(_roots) < 1024:
                _roots[asked] = (str(start), candidate)
            return candidate
    return None


def _still_root(start: str, root: Path) -> bool:
    """Whether ``root`` still holds ``.git`` and no folder from ``start`` up to it does: the
    answer found for ``start`` stands (a ``git init`` below it would change it)."""
    folder = Path(start)
    while folder != root:
        if (folder / ".git").exists() or folder.parent == folder:
            return False
        folder = folder.parent
    return (root / ".git").exists()


def _untracked_read(
    root: Path, untracked: list[str], read: Iterable[Path], objects: ObjectStore
) -> tuple[UntrackedFile, ...]:
    """The untracked files among ``read`` (absolute paths), their contents stored."""
    wanted = set(untracked)
    if not wanted:
        return ()
    prefix = f"{root}/"
    found: dict[str, UntrackedFile] = {}
    for path in read:
        # String tests where they can answer: a venv inside the repository puts thousands of
        # modules here, and a run must start in milliseconds.
        text = os.path.normpath(path)
        if text.startswith(prefix):
            relative = text[len(prefix) :]
        else:
            try:  # a path through a symlink: where it really is
                relative = path.resolve().relative_to(root).as_posix()
            except (ValueError, OSError):
                continue
        if relative not in wanted or relative in found:
            continue
        try:
            size = path.stat().st_size
            digest = objects.put_file(path) if size <= MAX_UNTRACKED_READ_BYTES else None
        except OSError:
            continue
        found[relative] = UntrackedFile(relative, digest, size)
    return tuple(found[name] for name in sorted(found))


# Diffs this process stored, by store: runs started from one dirty tree share one diff, and
# asking the store whether it has it (a HEAD request on S3) once is enough.
_diffs_lock = threading.Lock()
_stored_diffs: set[tuple[str, str]] = set()


def _store_diff(objects: ObjectStore, diff: bytes) -> str:
    key = (objects.url, digest_bytes(diff))
    with _diffs_lock:
        if key in _stored_diffs:
            return key[1]
    digest = objects.put_bytes(diff)
    with _diffs_lock:
        _stored_diffs.add((objects.url, digest))
    return digest


Status = tuple[str | None, str | None, bool, list[str]]
# A dirty tree's diff is kept with its status up to this size (larger: asked of git each time).
MAX_KEPT_DIFF = 8 << 20
# After a stamp that did not last (or could not be kept), this many captures go straight to git
# before another is taken, doubling up to the cap: a tree that changes between every two runs
# pays for no stamps it cannot use.
_MAX_PAUSE = 16


@dataclass
class _Kept:
    """The status last read for a tree, with the stamp that says whether it still holds."""

    config: ConfigStamp | None = None
    stamp: TreeStamp | None = None
    status: Status | None = None
    diff: bytes | None = None
    seen: bool = False
    used: int = 0
    pause: int = 0
    failures: int = 0


_kept_lock = threading.Lock()
_kept: dict[Path, _Kept] = {}


# Symbolic refs followed from HEAD at most this far (git itself stops at 5).
_MAX_SYMREF_HOPS = 5


def _head_refs(git_dirs: list[Path]) -> list[str]:
    """The refs HEAD leads to (``ref: refs/heads/x``, any ref under refs/, symbolic ones
    followed), read from the files: each one's file is stamped."""
    refs: list[str] = []
    name = "HEAD"
    for _ in range(_MAX_SYMREF_HOPS):
        text = None
        for folder in git_dirs:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                text = (folder / name).read_text(encoding="utf-8").strip()
                break
        if text is None or not text.startswith("ref: refs/"):
            break
        name = text.removeprefix("ref: ")
        refs.append(name)
    return refs


def _configured_path(root: Path, configured: str) -> Path:
    return Path(configured).expanduser() if configured.startswith("~") else root / configured


def _exclude_files(root: Path, facts: ConfigFacts | None) -> list[Path]:
    """The user-wide ignore and attributes files git reads (core.excludesFile and
    core.attributesFile, else their XDG defaults): attributes change the diff (``binary``)."""
    excludes = facts.excludes if facts is not None else None
    attributes = facts.attributes if facts is not None else None
    files = [_configured_path(root, name) for name in (excludes, attributes) if name]
    xdg = os.environ.get("XDG_CONFIG_HOME")
    try:
        folder = Path(xdg) / "git" if xdg else Path("~/.config/git").expanduser()
    except RuntimeError:  # no home folder: git reads none there either
        return files
    files += [] if excludes else [folder / "ignore"]
    files += [] if attributes else [folder / "attributes"]
    return files


def _still_holds(root: Path, config: ConfigStamp | None) -> _Kept | None:
    """The status kept for ``root`` when its stamp still holds, else None (and the stamp is
    dropped)."""
    with _kept_lock:
        kept = _kept.get(root)
        if kept is None or kept.stamp is None or kept.status is None:
            return None
        if kept.config == config and kept.stamp.holds():
            kept.used += 1
            kept.failures = 0
            return kept
        if kept.used == 0:  # it did not last even once: stamp less often
            _pause(kept)
        kept.stamp = None
        return None


def _pause(kept: _Kept) -> None:
    kept.failures += 1
    kept.pause = min(2**kept.failures, _MAX_PAUSE)


def _should_stamp(root: Path | None, git_dirs: list[Path]) -> bool:
    """Whether to stamp ``root`` before reading its status: from the second capture in this
    process on (a command starting one run pays nothing), unless stamps there did not last."""
    if root is None:
        return False
    with _kept_lock:
        kept = _kept.setdefault(root, _Kept())
        if not kept.seen:  # the first capture in this process: git alone
            kept.seen = True
            return False
        if kept.pause > 0:
            kept.pause -= 1
            return False
    return stampable(git_dirs)


def _stamp_tree(
    root: Path, git_dirs: list[Path], facts: ConfigFacts | None, mark_folder: Path | None
) -> TreeStamp | None:
    """Lists what git tracks and ignores, then stamps the tree (before its status is read)."""
    mark = clock_mark(mark_folder, root)
    with ThreadPoolExecutor(max_workers=2) as pool:
        stage = pool.submit(_git, root, "ls-files", "-z", "--stage")
        ignored = pool.submit(_git, root, *tree_stamp.IGNORED_STATUS)
        listed, dropped = stage.result(), ignored.result()
    if listed is None or listed.returncode != 0 or dropped is None or dropped.returncode != 0:
        return None
    tracked = tracked_paths(listed.stdout)
    if tracked is None:
        return None
    own = git_files(git_dirs, _head_refs(git_dirs), _exclude_files(root, facts))
    return take_stamp(root, tracked, ignored_paths(dropped.stdout), own, mark)


def _keep(
    root: Path,
    config: ConfigStamp | None,
    stamp: TreeStamp | None,
    status: Status,
    diff: bytes | None,
    *,
    stamped: bool,
) -> None:
    """Keep ``status`` with the stamp taken before it; ``stamped``: a stamp was tried."""
    with _kept_lock:
        kept = _kept.setdefault(root, _Kept(seen=True))
        if stamp is None or (diff is not None and len(diff) > MAX_KEPT_DIFF):
            kept.stamp = kept.status = kept.diff = None
            if stamped:  # too recent a write, or too large a tree: not again at once
                _pause(kept)
            return
        kept.config, kept.stamp, kept.status, kept.diff, kept.used = config, stamp, status, diff, 0


def capture_code_state(
    folder: Path,
    objects: ObjectStore,
    read: Iterable[Path] = (),
    mark_folder: Path | None = None,
) -> CodeState | None:
    """The code state of the git tree holding ``folder``; None outside a git repository.

    ``read`` are files the run reads (absolute paths): the untracked ones are stored with it.
    ``mark_folder`` is a folder on the tree's file system where a clock file may be touched
    (the workspace's cache): with it, a tree written a moment ago can be stamped (tree_stamp)."""
    root = git_root(folder)
    config = config_stamp(root) if root is not None else None
    known = _known_config(root, config)
    kept = _still_holds(root, config) if root is not None and known is not None else None
    if kept is not None and kept.status is not None:
        commit, branch, dirty, untracked = kept.status
        diff = kept.diff
    else:
        git_dirs = _git_dirs(root) if root is not None else []
        facts: Future[ConfigFacts] | None = None
        with contextlib.ExitStack() as stack:
            if known is None:  # asked beside the status call, on the other core
                pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
                facts = pool.submit(_config_facts, folder)
            stamp = None
            stamped = root is not None and _should_stamp(root, git_dirs)
            if root is not None and stamped:
                facts_now = known if known is not None else facts.result() if facts else None
                stamp = _stamp_tree(root, git_dirs, facts_now, mark_folder)
            status = _git(
                folder, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all"
            )
            if status is None or status.returncode != 0:
                return None
            commit, branch, dirty, untracked = read_status(status.stdout)
            diff = None
            if dirty and commit is not None:
                asked = _git(folder, "diff", "HEAD", "--binary")
                if asked is not None and asked.returncode == 0 and asked.stdout:
                    diff = asked.stdout
            if facts is not None:
                known = facts.result()
                if root is not None and config is not None:
                    with _remotes_lock:
                        _remotes[root] = (config, known)
        if root is not None:
            _keep(root, config, stamp, (commit, branch, dirty, untracked), diff, stamped=stamped)
    diff_digest = _store_diff(objects, diff) if diff else None
    repo_url = known.repo_url if known is not None else None
    files = _untracked_read(root, untracked, read, objects) if root is not None else ()
    return CodeState(
        repo_url=repo_url,
        commit=commit,
        branch=branch,
        dirty=dirty,
        diff_digest=diff_digest,
        untracked=tuple(sorted(untracked)[:MAX_UNTRACKED]),
        untracked_truncated=len(untracked) > MAX_UNTRACKED,
        untracked_read=files,
    )
