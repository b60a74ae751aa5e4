"""Many processes logging into one SQLite workspace at the same moment lose nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parity.api import runs as api_runs
from parity.tracking.store import RunStore
from parity.workspace import open_workspace

PROCESSES = 8
POINTS = 10_000
LOGGER = """
import sys, time
from pathlib import Path
import parity
go = Path(sys.argv[1])
with parity.start_run(experiment="concurrent", name=sys.argv[2]) as run:
    while not go.exists():
        time.sleep(0.01)
    for step in range({points}):
        run.log_metric("loss", step / {points}, step=step)
        if step % 500 == 499:
            run.flush()  # many small transactions, all processes at once
"""


@pytest.mark.slow
def test_eight_processes_lose_no_point(repo: Path) -> None:
    script = repo / "logger.py"
    script.write_text(LOGGER.format(points=POINTS))
    go = repo / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    processes = [
        subprocess.Popen(
            [sys.executable, str(script), str(go), f"p{i}"],
            cwd=repo,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(PROCESSES)
    ]
    time.sleep(1.0)  # let every process open the workspace and start its run
    go.touch()
    for process in processes:
        _, stderr = process.communicate(timeout=240)
        assert process.returncode == 0, stderr
    workspace = open_workspace(repo, environ={})
    runs = api_runs.list(experiment="concurrent", workspace=workspace)
    store = RunStore(workspace.meta, lambda: 0)
    assert sorted(run.name or "" for run in runs) == [f"p{i}" for i in range(PROCESSES)]
    counts = [store.count_metric_points(run.id) for run in runs]
    assert counts == [POINTS] * PROCESSES
    assert sum(counts) == PROCESSES * POINTS
    assert {run.metrics["loss"] for run in runs} == {(POINTS - 1) / POINTS}
    assert {str(run.status) for run in runs} == {"finished"}
    workspace.close()
