"""A DVC project laid out by hand as DVC 3 lays it out (objects, .dvc files, config), in a git
repository over two commits: fast, without DVC. ``_dvc_project`` builds one with the real DVC."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

from parity.workspace import init_workspace


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def put_object(root: Path, data: bytes, *, legacy: bool = False, suffix: str = "") -> str:
    """Store ``data`` as DVC does under a cache or remote ``root``; its md5."""
    digest = md5(data)
    folder = root if legacy else root / "files" / "md5"
    path = folder / digest[:2] / (digest[2:] + suffix)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def put_folder(root: Path, files: dict[str, bytes]) -> str:
    entries = [{"md5": put_object(root, b), "relpath": p} for p, b in sorted(files.items())]
    return put_object(root, json.dumps(entries, sort_keys=True).encode(), suffix=".dir")


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.org", *args],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip()


def dvc_file(path: str, digest: str, size: int, files: int | None = None) -> str:
    if files is None:
        return f"outs:\n- md5: {digest}\n  size: {size}\n  hash: md5\n  path: {path}\n"
    return (
        f"outs:\n- md5: {digest}.dir\n  size: {size}\n  nfiles: {files}\n"
        f"  hash: md5\n  path: {path}\n"
    )


def handmade_project(tmp_path: Path, remote_url: str | None = None) -> tuple[Path, Path, list[str]]:
    """A git repository with a hand-made DVC layout over two commits; its objects are in the
    cache folder returned (the caller may move them to a remote)."""
    root = tmp_path / "repo"
    (root / ".dvc").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    store = tmp_path / "objects"
    (root / ".dvc" / "config").write_text(
        f"[core]\n    remote = r\n['remote \"r\"']\n    url = {remote_url or store}\n"
    )
    commits = []
    for number, (csv, images) in enumerate(
        [
            (b"x\n1\n", {"a.txt": b"A\n", "b/c.txt": b"C\n"}),
            (b"x\n2\n", {"a.txt": b"A2\n", "d.txt": b"D\n"}),
        ]
    ):
        csv_md5 = put_object(store, csv)
        dir_md5 = put_folder(store, images)
        size = sum(len(b) for b in images.values())
        (root / "train.csv.dvc").write_text(dvc_file("train.csv", csv_md5, len(csv)))
        (root / "images.dvc").write_text(dvc_file("images", dir_md5, size, len(images)))
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", f"v{number + 1}")
        commits.append(git(root, "rev-parse", "HEAD"))
    init_workspace(root)[0].close()
    return root, store, commits
