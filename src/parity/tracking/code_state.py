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
from pathlib import Path

from parity.core.ids import digest_bytes
from parity.core.run import CodeState, UntrackedFile, strip_credentials
from parity.store.objects.store import ObjectStore

GIT_TIMEOUT_SECONDS = 30
MAX_UNTRACKED = 1000
# An untracked file the run read is stored up to this size; a larger one is listed without
# content (data belongs in `parity data add`, not in the code state).
MAX_UNTRACKED_READ_BYTES = 4 << 20


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    try:
        return subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


def _remote_url(folder: Path) -> str | None:
    result = _git(folder, "config", "--get-regexp", r"^remote\..*\.url$")
    if result is None or result.returncode != 0:
        return None
    remotes: dict[str, str] = {}
    for line in result.stdout.decode("utf-8", "replace").splitlines():
        name, _, url = line.partition(" ")
        remotes[name.removeprefix("remote.").removesuffix(".url")] = url.strip()
    chosen = remotes.get("origin") or next((u for _, u in sorted(remotes.items())), None)
    return strip_credentials(chosen) if chosen else None


# What `git config` reads besides the repository's own files, when no variable moves it.
_USER_CONFIGS = ("~/.gitconfig", "~/.config/git/config", "/etc/gitconfig")
ConfigStamp = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, int, int, int], ...]]
_remotes_lock = threading.Lock()
_remotes: dict[Path, tuple[ConfigStamp, str | None]] = {}


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


def config_stamp(root: Path) -> ConfigStamp:
    """What the remotes git reports for ``root`` follow from: the ``GIT_*`` variables, and the
    inode, size and mtime of every config file git reads (a file not there counts too; git
    rewrites a config by renaming a new file over it, so even an edit within the clock's tick
    shows). Files a config includes are not followed: a remote URL set through an include is
    read again only when a file above changes."""
    variables = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("GIT_")))
    files = [folder / name for folder in _git_dirs(root) for name in ("config", "config.worktree")]
    xdg = os.environ.get("XDG_CONFIG_HOME")
    files += [Path(xdg) / "git" / "config"] if xdg else []
    for name in _USER_CONFIGS:
        try:
            files.append(Path(name).expanduser())
        except RuntimeError:  # no home folder to expand ~ to: git reads none there either
            continue
    seen = []
    for path in files:
        try:
            info = path.stat()
            seen.append((str(path), info.st_ino, info.st_mtime_ns, info.st_size))
        except OSError:
            seen.append((str(path), -1, -1, -1))
    return variables, tuple(seen)


def _known_remote(root: Path | None, stamp: ConfigStamp | None) -> tuple[str | None] | None:
    """The remote URL asked of git before for ``root`` with the same config stamp (in a 1-tuple,
    as it may be None), or None when git must be asked."""
    if root is None or stamp is None:
        return None
    with _remotes_lock:
        known = _remotes.get(root)
    return (known[1],) if known is not None and known[0] == stamp else None


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


def git_root(folder: Path) -> Path | None:
    """The top of the git work tree holding ``folder`` (a worktree's ``.git`` is a file)."""
    start = folder.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return None


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


def capture_code_state(
    folder: Path, objects: ObjectStore, read: Iterable[Path] = ()
) -> CodeState | None:
    """The code state of the git tree holding ``folder``; None outside a git repository.

    ``read`` are files the run reads (absolute paths): the untracked ones are stored with it."""
    root = git_root(folder)
    stamp = config_stamp(root) if root is not None else None
    known = _known_remote(root, stamp)
    with contextlib.ExitStack() as stack:
        remote: Future[str | None] | None = None
        if known is None:  # asked beside the status call, on the other core
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
            remote = pool.submit(_remote_url, folder)
        status = _git(folder, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all")
        if status is None or status.returncode != 0:
            return None
        commit, branch, dirty, untracked = read_status(status.stdout)
        diff_digest = None
        if dirty and commit is not None:
            diff = _git(folder, "diff", "HEAD", "--binary")
            if diff is not None and diff.returncode == 0 and diff.stdout:
                diff_digest = _store_diff(objects, diff.stdout)
        if remote is None:
            repo_url = known[0] if known is not None else None
        else:
            repo_url = remote.result()
            if root is not None and stamp is not None:
                with _remotes_lock:
                    _remotes[root] = (stamp, repo_url)
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
