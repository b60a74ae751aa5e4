"""``parity data pull`` as DVC users expect it: fetch, then check out, never over your changes.

Two clones of one git repository share data through a folder remote, as two colleagues would.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import run_parity


def git(folder: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(folder), *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def parity(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    done = run_parity(*args, cwd=folder)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def publish(origin: Path, files: dict[str, str], message: str) -> None:
    """Write ``files`` under data/, version them, commit the pointer and push the content."""
    for name, text in files.items():
        (origin / "data" / name).write_text(text)
    parity(origin, "data", "add", "data")
    git(origin, "add", "-A")
    git(origin, "commit", "-q", "-m", message)
    parity(origin, "data", "push")


@pytest.fixture
def shared(tmp_path: Path) -> tuple[Path, Path]:
    """The project where the data was added (v1 pushed), and a fresh clone of it."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "user.email", "test@example.com")
    git(origin, "config", "user.name", "Test")
    parity(origin, "init")
    parity(origin, "remote", "add", "team", str(tmp_path / "remote"), "--default")
    (origin / "data").mkdir()
    publish(origin, {"x.txt": "one\n", "y.txt": "keep\n"}, "data v1")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(origin), str(clone))
    git(clone, "config", "user.email", "test@example.com")
    git(clone, "config", "user.name", "Test")
    return origin, clone


def test_pull_checks_the_data_out(shared: tuple[Path, Path]) -> None:
    _, clone = shared
    pulled = parity(clone, "data", "pull", "data")
    assert "data: 2 written, 0 removed, 0 unchanged" in pulled.stdout
    assert (clone / "data" / "x.txt").read_text() == "one\n"
    assert parity(clone, "data", "status").stdout.startswith("data: up to date")


def test_pull_no_checkout_only_fetches(shared: tuple[Path, Path]) -> None:
    _, clone = shared
    report = json.loads(parity(clone, "data", "pull", "--no-checkout", "--json").stdout)
    assert report["checked_out"] == {}
    assert not (clone / "data").exists()
    assert "2 deleted" in parity(clone, "data", "status").stdout
    parity(clone, "data", "checkout", "data")
    assert (clone / "data" / "y.txt").read_text() == "keep\n"


@pytest.mark.slow
def test_after_git_pull_a_pull_updates_files_that_hold_the_old_version(
    shared: tuple[Path, Path],
) -> None:
    origin, clone = shared
    parity(clone, "data", "pull")
    publish(origin, {"x.txt": "two\n"}, "data v2")
    git(clone, "pull", "-q")  # the pointer moves to v2; the files still hold v1
    pulled = parity(clone, "data", "pull", "data")
    assert "data: 1 written, 0 removed, 1 unchanged" in pulled.stdout
    assert (clone / "data" / "x.txt").read_text() == "two\n"
    assert parity(clone, "data", "status").stdout.startswith("data: up to date")


@pytest.mark.slow
def test_a_pull_never_overwrites_a_file_you_changed(shared: tuple[Path, Path]) -> None:
    origin, clone = shared
    parity(clone, "data", "pull")
    (clone / "data" / "y.txt").write_text("mine\n")
    publish(origin, {"x.txt": "two\n", "y.txt": "theirs\n"}, "data v2")
    git(clone, "pull", "-q")
    pulled = run_parity("data", "pull", "data", cwd=clone)
    assert pulled.returncode == 4
    assert (
        "data: not checked out: 1 files in data were changed and would be overwritten: y.txt"
        in pulled.stdout
    )
    assert "error: pulled, but 1 paths were not checked out: data" in pulled.stderr
    assert (clone / "data" / "y.txt").read_text() == "mine\n"  # yours, untouched
    # fetched all the same: a forced checkout needs no remote
    forced = run_parity("data", "checkout", "--force", "data", cwd=clone)
    assert forced.returncode == 0, forced.stderr
    assert (clone / "data" / "y.txt").read_text() == "theirs\n"
