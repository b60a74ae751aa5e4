"""Where DVC's files are: in the work tree, and in every commit of git history that changed one.

History is read without checking anything out: ``git log`` finds the commits that touched a
``*.dvc`` file or a ``dvc.lock``, ``git ls-tree`` lists each one's DVC files and one
``git cat-file --batch`` reads them all.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from parity.core.errors import NotFoundError, UsageError
from parity.data.git import batch_contents
from parity.migrate.dvc.files import is_dvc_file

_SKIPPED = {".git", ".dvc", ".parity"}


@dataclass(frozen=True)
class DvcSnapshot:
    """The DVC files of one commit (or of the work tree: ``commit`` None)."""

    commit: str | None
    time: int  # committer time, seconds (0 for the work tree)
    files: dict[str, bytes]  # path from the repository root → content


def _git(root: Path, *args: str) -> bytes:
    try:
        result = subprocess.run(["git", *args], cwd=root, capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise UsageError("git is not installed", hint="install git to import history") from exc
    if result.returncode != 0:
        lines = result.stderr.decode(errors="replace").strip().splitlines()
        raise NotFoundError(
            f"git {args[0]} failed in {root}: {lines[-1] if lines else result.returncode}",
            hint="run the import inside the git repository that DVC versions",
        )
    return result.stdout


def head_commit(root: Path) -> str | None:
    """The commit checked out, or None outside git or before the first commit."""
    try:
        return _git(root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}").decode().strip()
    except (NotFoundError, UsageError):
        return None


def work_tree(root: Path) -> DvcSnapshot:
    """The DVC files in the work tree as they are now (DVC's own folders skipped)."""
    files: dict[str, bytes] = {}
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED)
        for name in sorted(names):
            path = Path(folder, name)
            relative = path.relative_to(root).as_posix()
            if is_dvc_file(relative) and path.is_file():
                files[relative] = path.read_bytes()
    return DvcSnapshot(None, 0, files)


def committed(root: Path) -> list[DvcSnapshot]:
    """The DVC files of every commit (of any ref, as DVC's --all-commits) that changed one,
    oldest first."""
    log = _git(
        root,
        "log",
        "--all",
        "--topo-order",
        "--reverse",
        "--format=%H %ct",
        "--",
        "*.dvc",
        "dvc.lock",
        "*/dvc.lock",
    ).decode()
    commits = [line.split() for line in log.splitlines() if line]
    return [at_commit(root, commit, int(when)) for commit, when in commits]


def at_commit(root: Path, commit: str, time: int = 0) -> DvcSnapshot:
    """The DVC files of one commit."""
    listing = _git(root, "ls-tree", "-r", "-z", "--name-only", commit)
    paths = [p for p in listing.decode("utf-8", "surrogateescape").split("\0") if is_dvc_file(p)]
    requests = "".join(f"{commit}:{p}\n" for p in paths).encode("utf-8", "surrogateescape")
    contents = batch_contents(root, requests) if paths else []
    files = {p: c for p, c in zip(paths, contents, strict=True) if c is not None}
    return DvcSnapshot(commit, time, files)
