"""What git knows about pointer files: their content at a revision, their history, and every
pointer in every ref (for gc). Plain ``git`` subprocesses; no git library."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from parity.core.errors import NotFoundError, UsageError
from parity.data.pointer import SUFFIX, Pointer


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> bytes:
    try:
        result = subprocess.run(
            ["git", *args], cwd=cwd, input=stdin, capture_output=True, check=False
        )
    except FileNotFoundError as exc:
        raise UsageError("git is not installed", hint="install git to use revisions") from exc
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace").strip().splitlines()
        raise NotFoundError(
            f"git {args[0]} failed: {message[-1] if message else result.returncode}",
            hint="check the revision and that the folder is in a git repository",
        )
    return result.stdout


def toplevel(start: Path) -> Path:
    folder = start if start.is_dir() else start.parent
    while not folder.exists():
        folder = folder.parent
    return Path(_git(folder, "rev-parse", "--show-toplevel").decode().strip())


def pointer_at(pointer_file: Path, rev: str) -> Pointer:
    """The pointer ``pointer_file`` as committed at ``rev``."""
    root = toplevel(pointer_file.parent)
    relative = pointer_file.relative_to(root).as_posix()
    try:
        data = _git(root, "show", f"{rev}:{relative}")
    except NotFoundError as exc:
        raise NotFoundError(
            f"{relative} is not in git revision {rev}",
            hint=f"see its versions with 'parity data log {relative[: -len(SUFFIX)]}'",
        ) from exc
    return Pointer.from_bytes(data, f"{rev}:{relative}")


@dataclass(frozen=True)
class PointerCommit:
    commit: str
    time: int  # seconds since the epoch (committer time)
    author: str
    subject: str
    pointer: Pointer | None  # None where the commit deleted the pointer


def history(pointer_file: Path) -> list[PointerCommit]:
    """The commits that changed ``pointer_file``, newest first, with the pointer each left."""
    root = toplevel(pointer_file.parent)
    relative = pointer_file.relative_to(root).as_posix()
    log = _git(root, "log", "--format=%H%x1f%ct%x1f%an%x1f%s", "--", relative).decode()
    commits = [line.split("\x1f") for line in log.splitlines() if line]
    if not commits:
        return []
    wanted = "".join(f"{c[0]}:{relative}\n" for c in commits).encode()
    contents = batch_contents(root, wanted)
    result = []
    for (commit, when, author, subject), content in zip(commits, contents, strict=True):
        pointer = Pointer.from_bytes(content, f"{commit[:12]}:{relative}") if content else None
        result.append(PointerCommit(commit, int(when), author, subject, pointer))
    return result


def batch_contents(root: Path, requests: bytes) -> list[bytes | None]:
    """``git cat-file --batch`` over newline-separated object names; None for missing ones."""
    output = _git(root, "cat-file", "--batch", stdin=requests)
    contents: list[bytes | None] = []
    position = 0
    for _ in requests.splitlines():
        end = output.index(b"\n", position)
        header = output[position:end].split()
        position = end + 1
        if len(header) < 3 or header[-1] == b"missing":
            contents.append(None)
            continue
        size = int(header[2])
        contents.append(output[position : position + size])
        position += size + 1
    return contents


def pointers_in_all_refs(start: Path) -> list[Pointer]:
    """Every pointer file in every commit reachable from any ref (branches, tags, stash…)."""
    try:
        root = toplevel(start)
    except NotFoundError:
        return []
    listing = _git(root, "rev-list", "--all", "--objects").decode("utf-8", "surrogateescape")
    blobs = [
        line.split(" ", 1)[0]
        for line in listing.splitlines()
        if " " in line and line.endswith(SUFFIX)
    ]
    if not blobs:
        return []
    pointers = []
    for content in batch_contents(root, "".join(f"{b}\n" for b in blobs).encode()):
        if content:
            try:
                pointers.append(Pointer.from_text(content.decode("utf-8", "replace")))
            except UsageError:
                continue  # a file named *.parity that is not a pointer
    return pointers


def resolve_commit(start: Path, rev: str) -> str:
    """The full id of the commit ``rev`` names (NotFoundError when it names none)."""
    root = toplevel(start)
    return _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}").decode().strip()


def describe_commits(start: Path, commits: list[str]) -> dict[str, tuple[int, str, str]]:
    """commit → (committer time, author name, subject) for those of ``commits`` git has."""
    if not commits:
        return {}
    root = toplevel(start)
    described = {}
    for commit, raw in zip(
        commits, batch_contents(root, "".join(f"{c}\n" for c in commits).encode()), strict=True
    ):
        if raw is None:
            continue
        head, _, message = raw.decode("utf-8", "replace").partition("\n\n")
        fields = dict(line.split(" ", 1) for line in head.splitlines() if " " in line)
        author = fields.get("author", "").rsplit(" ", 2)[0].rsplit(" <", 1)[0]
        when = fields.get("committer", "0 0").rsplit(" ", 2)[-2]
        described[commit] = (int(when), author, (message.splitlines() or [""])[0])
    return described


def newest_first(start: Path) -> dict[str, int]:
    """Every commit of every ref → its place in topological order, newest first (so commits
    made in the same second still sort the way they were made)."""
    root = toplevel(start)
    listing = _git(root, "rev-list", "--all", "--topo-order").decode().split()
    return {commit: place for place, commit in enumerate(listing)}
