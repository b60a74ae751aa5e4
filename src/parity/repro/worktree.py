"""Check a run's code out into a temporary git worktree: the commit, then what was uncommitted.

``git worktree add --detach`` puts the recorded commit in a folder of its own (the user's work
tree is never touched); the recorded ``git diff HEAD --binary`` is applied on top after its
digest is checked against the code state, and the untracked files the run read are written back
from their blobs. ``remove`` deletes the worktree and git's note of it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from parity.core.errors import CorruptObject, NotFoundError, UsageError
from parity.core.ids import digest_bytes
from parity.core.paths import is_contained
from parity.store.objects.store import ObjectStore

GIT_TIMEOUT_SECONDS = 300


class CodeProblem(Exception):
    """The code state could not be checked out as recorded."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Checkout:
    """A worktree holding a run's code; ``notes`` say what could not be put back exactly."""

    repository: Path
    path: Path
    notes: list[str] = field(default_factory=list)

    def remove(self) -> None:
        _git(self.repository, "worktree", "remove", "--force", str(self.path), check=False)
        shutil.rmtree(self.path.parent, ignore_errors=True)
        _git(self.repository, "worktree", "prune", check=False)


def _git(folder: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(
            ["git", "-C", str(folder), *args],
            capture_output=True,
            timeout=GIT_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CodeProblem(f"git {args[0]} failed: {exc}") from exc
    if check and done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise CodeProblem(f"git {args[0]} failed: {lines[-1] if lines else done.returncode}")
    return done


def has_commit(repository: Path, commit: str) -> bool:
    return _git(repository, "cat-file", "-e", f"{commit}^{{commit}}", check=False).returncode == 0


def _blob(objects: ObjectStore, digest: str, what: str) -> bytes:
    try:
        content = objects.get_bytes(digest)
    except (CorruptObject, NotFoundError) as exc:
        raise CodeProblem(f"{what}: {exc.message}") from exc
    if digest_bytes(content) != digest:  # the store checks it too; the diff is code that runs
        raise CodeProblem(f"{what}: object {digest} does not hash to its id")
    return content


def check_out(code: Mapping[str, Any], repository: Path, objects: ObjectStore) -> Checkout:
    """A new worktree of ``repository`` holding the code state ``code`` (a run view's ``code``).

    Raises ``CodeProblem`` naming what is missing: the commit, the diff or an untracked file.
    """
    commit = code.get("commit")
    if not commit:
        raise CodeProblem("the run's code state has no commit (nothing was committed yet)")
    if not has_commit(repository, commit):
        raise CodeProblem(
            f"commit {commit[:12]} is not in the repository at {repository} (fetch it first)"
        )
    folder = Path(tempfile.mkdtemp(prefix="parity-repro-"))
    checkout = Checkout(repository, folder / "code")
    try:
        _git(repository, "worktree", "add", "--detach", "--quiet", str(checkout.path), commit)
        _apply(code, checkout, objects)
    except BaseException:
        checkout.remove()
        raise
    return checkout


def _apply(code: Mapping[str, Any], checkout: Checkout, objects: ObjectStore) -> None:
    diff = code.get("diff_digest")
    if diff:
        patch = checkout.path.parent / "uncommitted.diff"
        patch.write_bytes(_blob(objects, diff, "the uncommitted diff"))
        _git(checkout.path, "apply", "--binary", "--whitespace=nowarn", str(patch))
    elif code.get("dirty"):
        checkout.notes.append("the tree was dirty but no diff was stored: committed code only")
    for entry in code.get("untracked_read") or ():
        path = str(entry["path"])
        if not is_contained(path):
            raise CodeProblem(f"untracked file {path!r} lies outside the repository")
        if entry.get("digest") is None:
            checkout.notes.append(f"untracked file {path} was too large to keep: not restored")
            continue
        target = checkout.path / path
        # The text of the path stays inside; a symlink in the checkout (committed, or added
        # by the diff) could still lead the write elsewhere: resolve before writing.
        if not target.parent.resolve().is_relative_to(checkout.path.resolve()) or (
            target.is_symlink()
        ):
            raise CodeProblem(f"untracked file {path!r} lies behind a symlink out of the checkout")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(_blob(objects, str(entry["digest"]), f"untracked file {path}"))
    if code.get("untracked_truncated"):
        checkout.notes.append("the run's list of untracked files was cut short")


def workspace_folder(repository: Path, workspace_root: Path) -> Path:
    """Where the workspace sits in the repository (``.`` when at its root)."""
    try:
        return workspace_root.resolve().relative_to(repository.resolve())
    except ValueError as exc:
        raise UsageError(
            f"the workspace {workspace_root} is not inside the git repository {repository}"
        ) from exc
