"""Capture the code state of a git working tree by asking git (a subprocess, no git library).

Two git calls answer almost everything: ``git status --porcelain=v2 --branch -z`` gives the commit,
the branch, whether anything changed and the untracked files; ``git config --get-regexp`` gives
the remotes. Only a dirty tree costs a third call, ``git diff HEAD --binary``, whose output is
stored as a blob so the exact uncommitted change can be re-applied later.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from parity.core.run import CodeState, strip_credentials
from parity.store.objects.store import ObjectStore

GIT_TIMEOUT_SECONDS = 30
MAX_UNTRACKED = 1000


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


def capture_code_state(folder: Path, objects: ObjectStore) -> CodeState | None:
    """The code state of the git tree holding ``folder``; None outside a git repository."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        remote = pool.submit(_remote_url, folder)
        status = _git(folder, "status", "--porcelain=v2", "--branch", "-z", "--untracked-files=all")
        if status is None or status.returncode != 0:
            return None
        commit, branch, dirty, untracked = read_status(status.stdout)
        diff_digest = None
        if dirty and commit is not None:
            diff = _git(folder, "diff", "HEAD", "--binary")
            if diff is not None and diff.returncode == 0 and diff.stdout:
                diff_digest = objects.put_bytes(diff.stdout)
        repo_url = remote.result()
    return CodeState(
        repo_url=repo_url,
        commit=commit,
        branch=branch,
        dirty=dirty,
        diff_digest=diff_digest,
        untracked=tuple(sorted(untracked)[:MAX_UNTRACKED]),
        untracked_truncated=len(untracked) > MAX_UNTRACKED,
    )
