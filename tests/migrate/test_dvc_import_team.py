"""A DVC import into a workspace whose stores are a Parity server's: the commit pointers live on
the server, so a teammate's fresh clone (no DVC cache, no pointer files) sees the imported
history and checks out any commit's data from Parity alone."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_parity
from tests.migrate._handmade import git, handmade_project
from tests.server.live import TeamServer, team_server


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TeamServer]:
    with team_server(tmp_path / "served") as served:
        yield served


def _parity(server: TeamServer, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**server.client_environment(), "XDG_CONFIG_HOME": str(cwd.parent / "config")}
    done = run_parity(*args, cwd=cwd, env=env)
    assert done.returncode == 0, done.stderr
    return done


def test_a_teammate_checks_out_imported_history_from_the_server(
    tmp_path: Path, server: TeamServer
) -> None:
    root, _, commits = handmade_project(tmp_path)
    report = json.loads(_parity(server, root, "import", "dvc", "--all-commits", "--json").stdout)
    assert (report["versions_added"], report["commits_linked"]) == (4, 4)

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(root), str(clone))
    assert not (clone / ".dvc" / "cache").exists()
    _parity(server, clone, "init")
    listed = json.loads(_parity(server, clone, "data", "log", "images", "--json").stdout)
    assert [entry["commit"] for entry in listed] == commits[::-1]
    _parity(server, clone, "data", "checkout", "images", "train.csv", "--rev", commits[0])
    assert (clone / "train.csv").read_bytes() == b"x\n1\n"
    assert sorted(p.relative_to(clone).as_posix() for p in clone.glob("images/**/*.txt")) == [
        "images/a.txt",
        "images/b/c.txt",
    ]
    # The import ran against the server: a second one, from the clone, adds nothing.
    again = json.loads(_parity(server, clone, "import", "dvc", "--all-commits", "--json").stdout)
    assert (again["versions_added"], again["commits_linked"]) == (0, 0)
