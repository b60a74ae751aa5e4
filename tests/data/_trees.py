"""Helpers for the data tests: build a tree with every awkward case, fingerprint a tree."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import blake3


def build_tree(root: Path) -> None:
    """Nested folders, an empty file, an empty folder, unicode names, an executable, a file
    above the chunking threshold (given as 64 KiB in the test config)."""
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / "empty folder" / "inside").mkdir(parents=True)
    (root / "a.csv").write_text("id,value\n1,2\n")
    (root / "nested" / "empty.bin").write_bytes(b"")
    (root / "nested" / "deeper" / "ünïcødé 数据.txt").write_text("unicode ✓\n")
    script = root / "nested" / "run.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    (root / "large.bin").write_bytes(os.urandom(300_000))


def fingerprint(root: Path) -> dict[str, object]:
    """Every file's digest and executable bit, and every folder (empty ones included)."""
    found: dict[str, object] = {}
    for folder, dirs, files in os.walk(root):
        relative = Path(folder).relative_to(root).as_posix()
        found[f"dir:{relative}"] = sorted(dirs)
        for name in files:
            path = Path(folder) / name
            mode = path.stat().st_mode
            found[f"{relative}/{name}"] = (
                blake3.blake3(path.read_bytes()).hexdigest(),
                bool(mode & stat.S_IXUSR),
            )
    return found


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout.strip()


def small_chunks(workspace_root: Path, threshold: int = 64 << 10) -> None:
    """Make files above ``threshold`` chunked, so small test files exercise FastCDC."""
    config = workspace_root / ".parity" / "config.toml"
    config.write_text(config.read_text() + f"\n[data]\nchunk_threshold = {threshold}\n")
