"""Two adds at once of folders sharing a large file store the shared chunks once (issue 19):
real processes, one workspace, over a SQLite file and over the real PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from parity.api._worktree import stat_cache
from parity.data.versions import load_version
from parity.workspace import open_workspace

_SHARED = 16 << 20  # well above the chunk threshold: cut into many chunks
_WAIT_S = 120.0

# Imports Parity and opens the workspace and its database, says it is ready, waits for the go
# file, then adds its folder: so the two adds start within milliseconds of each other.
_ADD = """
import json, pathlib, sys, time
from parity.api import data
from parity.workspace import open_workspace
workspace = open_workspace()
workspace.meta.count_records()
pathlib.Path(sys.argv[2]).touch()
while not pathlib.Path(sys.argv[3]).exists():
    time.sleep(0.001)
print(json.dumps(data.add(sys.argv[1], workspace=workspace).to_dict()))
"""


def _use_database(root: Path, url: str) -> None:
    config = root / ".parity" / "config.toml"
    text = config.read_text()
    config.write_text(text.replace("[core]\n", f'[core]\nmetadata_url = "{url}"\n', 1))


def test_concurrent_adds_store_shared_content_once(
    workspace_dir: Path, database_url: str, tmp_path: Path
) -> None:
    if database_url.startswith("postgresql"):
        _use_database(workspace_dir, database_url)
    # The database schema and the stat cache are made before the race, not in it: this test
    # is about the chunk index (two first opens of a new stat cache race on its own).
    opened = open_workspace(workspace_dir)
    opened.meta.count_records()
    stat_cache(opened).close()
    opened.close()
    shared = os.urandom(_SHARED)
    for name in ("left", "right"):
        folder = workspace_dir / name
        folder.mkdir()
        (folder / "big.bin").write_bytes(shared)
        (folder / f"{name}.txt").write_text(f"only in {name}\n")
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    adds = [
        subprocess.Popen(
            [sys.executable, "-c", _ADD, name, str(tmp_path / f"ready-{name}"), str(go)],
            cwd=workspace_dir,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("left", "right")
    ]
    try:
        deadline = time.monotonic() + _WAIT_S
        while not all((tmp_path / f"ready-{n}").exists() for n in ("left", "right")):
            assert all(p.poll() is None for p in adds), "an add died before the start"
            assert time.monotonic() < deadline, "the adds never got ready"
            time.sleep(0.01)
        go.touch()
        outputs = [p.communicate(timeout=_WAIT_S) for p in adds]
    finally:
        for p in adds:
            if p.poll() is None:
                p.kill()
                p.wait()
    assert [p.returncode for p in adds] == [0, 0], [err for _, err in outputs]
    results = [json.loads(out) for out, _ in outputs]

    workspace = open_workspace(workspace_dir)
    try:
        versions = [load_version(workspace.objects, r["data_version"]) for r in results]
    finally:
        workspace.close()
    distinct = {c.digest for v in versions for f in v.files for c in f.chunks}
    # Each chunk stored by exactly one of the two adds: together they stored each chunk once.
    assert sum(r["chunks_new"] for r in results) == len(distinct)
    assert sum(r["bytes_stored"] for r in results) < _SHARED * 1.25
    assert [(r["files"], r["size"]) for r in results] == [(2, _SHARED + 13), (2, _SHARED + 14)]
