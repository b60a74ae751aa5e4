"""Temp files of killed commands: an add or push killed with SIGKILL cannot clean up after
itself, so gc, the next add and the next transfer remove what no running process holds."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_parity

# A process that makes a temp file the way Parity does, writes into it, and waits to be killed.
_HOLDER = """
import os, sys, time
from pathlib import Path
from parity.store.objects import scratch
fd, path = scratch.create(Path(sys.argv[1]), sys.argv[2])
os.write(fd, b"x" * (1 << 20))
print(path, flush=True)
time.sleep(600)
"""


def _age(path: Path, seconds: int = 60) -> None:
    """Date ``path`` back, as a leftover from a kill some time ago looks (a file written in the
    last two seconds is never swept: its maker may not have locked it yet)."""
    then = time.time_ns() - seconds * 1_000_000_000
    os.utime(path, ns=(then, then))


@pytest.fixture
def holders() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()


def _hold(holders: list[subprocess.Popen[str]], folder: Path, prefix: str) -> Path:
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(folder), prefix], stdout=subprocess.PIPE, text=True
    )
    holders.append(process)
    assert process.stdout is not None
    path = Path(process.stdout.readline().strip())
    assert path.is_file()
    _age(path)
    return path


def _kill(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def _kill_add_while_it_writes_a_pack(root: Path, name: str) -> list[Path]:
    """Start ``parity data add NAME`` and SIGKILL it once a pack temp file holds data."""
    scratch = root / ".parity" / "objects" / "tmp"
    process = subprocess.Popen(
        [sys.executable, "-m", "parity", "data", "add", name],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if any(p.name.startswith(".pack-") and _size(p) for p in scratch.iterdir()):
            break
        time.sleep(0.001)
    assert process.poll() is None, "the add finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    left = sorted(scratch.iterdir())
    assert left, "SIGKILL left no temp file: nothing for this test to check"
    for path in left:
        _age(path)
    return left


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # moved into place meanwhile
        return 0


def _random_file(path: Path, mib: int) -> None:
    with open(path, "wb") as handle:
        for _ in range(mib):
            handle.write(os.urandom(1 << 20))


@pytest.mark.slow
def test_a_killed_add_leaves_temp_files_that_gc_and_the_next_add_remove(
    workspace_dir: Path,
) -> None:
    _random_file(workspace_dir / "big.bin", 160)
    left = _kill_add_while_it_writes_a_pack(workspace_dir, "big.bin")

    dry = run_parity("data", "gc", "--json", cwd=workspace_dir)
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert plan["leftover_temp_files"] == len(left)
    assert plan["leftover_bytes"] == sum(p.stat().st_size for p in left) > 0
    assert all(p.exists() for p in left)  # a dry run deletes nothing
    swept = run_parity("data", "gc", "--yes", cwd=workspace_dir)
    assert swept.returncode == 0, swept.stderr
    assert f"deleted {len(left)} temp files killed commands left" in swept.stdout
    assert not any(p.exists() for p in left)

    left = _kill_add_while_it_writes_a_pack(workspace_dir, "big.bin")
    (workspace_dir / "small.txt").write_text("s\n")
    added = run_parity("data", "add", "small.txt", cwd=workspace_dir)
    assert added.returncode == 0, added.stderr
    assert not any(p.exists() for p in left)


def test_a_temp_file_in_use_is_left_alone_until_its_process_dies(
    workspace_dir: Path, holders: list[subprocess.Popen[str]]
) -> None:
    scratch = workspace_dir / ".parity" / "objects" / "tmp"
    held = _hold(holders, scratch, ".pack-")
    swept = run_parity("data", "gc", "--yes", "--json", cwd=workspace_dir)
    assert swept.returncode == 0, swept.stderr
    assert json.loads(swept.stdout)["leftover_temp_files"] == 0
    assert held.exists()  # a running add's pack: never touched
    _kill(holders[0])
    swept = run_parity("data", "gc", "--yes", "--json", cwd=workspace_dir)
    assert json.loads(swept.stdout)["leftover_temp_files"] == 1
    assert not held.exists()


def test_a_killed_push_leftover_is_removed_by_the_rerun(
    workspace_dir: Path, tmp_path: Path, holders: list[subprocess.Popen[str]]
) -> None:
    remote = tmp_path / "remote"
    (remote / "tmp").mkdir(parents=True)
    assert run_parity("remote", "add", "backup", str(remote), cwd=workspace_dir).returncode == 0
    (workspace_dir / "a.txt").write_text("a\n")
    assert run_parity("data", "add", "a.txt", cwd=workspace_dir).returncode == 0
    alive = _hold(holders, remote / "tmp", ".transfer-")  # another push, still running
    dead = _hold(holders, remote / "tmp", ".transfer-")
    _kill(holders[1])
    pushed = run_parity("data", "push", cwd=workspace_dir)
    assert pushed.returncode == 0, pushed.stderr
    assert not dead.exists()
    assert alive.exists()
