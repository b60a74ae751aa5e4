"""Temp files in a scratch folder: locked while in use, swept once their process is gone."""

from __future__ import annotations

import os
import time
from pathlib import Path

from parity.store.objects import scratch


def _age(path: Path) -> None:
    then = time.time_ns() - 60_000_000_000
    os.utime(path, ns=(then, then))


def test_only_unheld_settled_files_of_ours_are_swept(tmp_path: Path) -> None:
    fd, held = scratch.create(tmp_path, ".pack-")
    os.write(fd, b"in use")
    released_fd, released = scratch.create(tmp_path, ".transfer-")
    os.close(released_fd)  # as a killed process's lock is dropped
    fresh_fd, fresh = scratch.create(tmp_path, ".put-")
    os.close(fresh_fd)  # not locked, but written just now: its maker may be about to lock it
    legacy = tmp_path / f".transfer-{'ab' * 16}"  # a name older Parity versions used
    legacy.write_bytes(b"old")
    foreign = tmp_path / "someone-elses.tmp"
    foreign.write_bytes(b"not ours")
    for path in (held, released, legacy, foreign):
        _age(path)

    found = scratch.leftovers(tmp_path)
    assert sorted(found.files) == sorted([released, legacy])
    assert found.bytes == 3
    assert scratch.sweep(tmp_path).files == found.files
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [held.name, fresh.name, foreign.name]
    )
    os.close(fd)
    assert scratch.sweep(tmp_path).files == [held]


def test_new_files_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        fd, path = scratch.new_file(tmp_path, ".x-")
        os.close(fd)
        assert path.stat().st_mode & 0o777 == 0o640
        assert scratch.umask() == 0o027
    finally:
        os.umask(old)
