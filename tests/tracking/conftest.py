"""Tracking fixtures: a real git repository holding a Parity workspace, script runners, and a run
store on every backend."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parity.store.meta import open_metadata_store
from parity.tracking.store import RunStore
from parity.workspace import Workspace, init_workspace, now_ms, open_workspace
from tests.tracking.team import remote_store, serve

REMOTE = "https://alice:s3cret-token@git.example.com/team/churn.git"
PUBLIC_REMOTE = "https://git.example.com/team/churn.git"


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return result.stdout


def make_repo(root: Path) -> Path:
    """A git repository with one commit, a remote with credentials, and a Parity workspace."""
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.com")
    git(root, "config", "user.name", "Test")
    git(root, "remote", "add", "origin", REMOTE)
    (root / "train.py").write_text("print('training')\n")
    (root / ".gitignore").write_text("*.pyc\n_script.py\n")
    workspace, _ = init_workspace(root, environ={})
    workspace.close()
    git(root, "add", ".")  # .parity/ keeps only config.toml and its .gitignore for git
    git(root, "commit", "-q", "-m", "first")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "repo")


@pytest.fixture
def workspace(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.chdir(repo)
    ws = open_workspace(repo, environ={})
    yield ws
    ws.close()


@pytest.fixture
def store(workspace: Workspace) -> RunStore:
    return RunStore(workspace.meta, now_ms, workspace.records)


def run_script(
    source: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    args: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a Python script with this interpreter in ``cwd``, as a user would."""
    script = cwd / "_script.py"
    script.write_text(source)
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    full_env.update(env or {})
    try:
        return subprocess.run(
            [sys.executable, str(script), *(args or [])],
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    finally:
        script.unlink()


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000_000

    def __call__(self) -> int:
        self.now += 1
        return self.now


@pytest.fixture(params=["sqlite", "postgres", "server"])
def runs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A run store on each backend; ``.clock`` is the clock of the store that keeps the runs
    (a server's, for the HTTP one, which also makes its run ids with it)."""
    if request.param != "server":
        url = f"sqlite:///{tmp_path / 'parity.db'}"
        if request.param == "postgres":
            url = request.getfixturevalue("postgres_url")
        meta = open_metadata_store(url)
        yield RunStore(meta, Clock())
        meta.close()
        return
    clock = Clock()
    with serve(tmp_path / "served", clock=clock) as served:
        store = remote_store(served, clock, user="alice")
        store.clock = clock
        yield store
        store.client.close()
