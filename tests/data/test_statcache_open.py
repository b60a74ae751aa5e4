"""A new stat cache opened by several processes at once is built once, by one of them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

OPEN_AFTER_GO = """
import sys, time
from pathlib import Path
from parity.data.statcache import StatCache
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.001)
StatCache(Path(sys.argv[1])).under("x")
"""


def test_processes_opening_a_new_cache_at_once_all_succeed(tmp_path: Path) -> None:
    for trial in range(5):
        cache = tmp_path / f"trial-{trial}" / "stat.db"
        go = tmp_path / f"go-{trial}"
        # Import first, then wait for the go file: the opens themselves race.
        opening = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AFTER_GO, str(cache), str(go)],
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        go.touch()
        errors = [p.communicate(timeout=120)[1] for p in opening]
        assert [p.returncode for p in opening] == [0] * 6, errors
