"""How runs end in real processes: SIGTERM, interpreter exit, an uncaught error, a hard crash."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from parity.api import runs
from parity.core.run import RunStatus
from parity.tracking.lifecycle import TERMINATED_EXIT_CODE
from parity.workspace import open_workspace
from tests.tracking.conftest import run_script

WAIT_FOR_SIGNAL = """
import sys, time, parity
with parity.start_run(experiment="long") as run:
    run.log_metric("loss", 0.5)
    run.flush()
    print(run.id, flush=True)
    time.sleep(60)
"""


def test_sigterm_kills_the_run_and_the_process_still_exits_as_terminated(repo: Path) -> None:
    (repo / "long.py").write_text(WAIT_FOR_SIGNAL)
    process = subprocess.Popen(
        [sys.executable, "long.py"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    run_id = process.stdout.readline().strip()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == TERMINATED_EXIT_CODE, stderr
    workspace = open_workspace(repo, environ={})
    view = runs.get(run_id, workspace=workspace)
    assert view.status is RunStatus.KILLED
    assert view.metrics == {"loss": 0.5}
    workspace.close()


def test_a_chained_sigterm_handler_still_runs(repo: Path) -> None:
    script = """
import signal, sys, parity
seen = []
signal.signal(signal.SIGTERM, lambda s, f: seen.append(s))
with parity.start_run() as run:
    signal.raise_signal(signal.SIGTERM)  # the program's own handler decides: it carries on
    print(run.id, seen == [signal.SIGTERM])
assert signal.getsignal(signal.SIGTERM) is not None
"""
    result = run_script(script, repo)
    assert result.returncode == 0, result.stderr
    run_id, chained = result.stdout.split()
    assert chained == "True"
    workspace = open_workspace(repo, environ={})
    assert runs.get(run_id, workspace=workspace).status is RunStatus.FINISHED
    workspace.close()


@pytest.mark.slow
def test_runs_left_open_end_at_interpreter_exit(repo: Path) -> None:
    script = """
import json, sys, parity
ok = parity.start_run(name="left-open")
for step in range(2500):
    ok.log_metric("loss", 1 / (step + 1))
crashing = parity.start_run(name="crashing")
print(json.dumps([ok.id, crashing.id]), flush=True)
raise RuntimeError("out of memory, say")
"""
    result = run_script(script, repo)
    assert result.returncode == 1
    assert "RuntimeError: out of memory, say" in result.stderr
    ok_id, crashing_id = json.loads(result.stdout)
    workspace = open_workspace(repo, environ={})
    # Both were open when the exception ended the program: both count as failed by it.
    assert runs.get(crashing_id, workspace=workspace).status is RunStatus.FAILED
    assert runs.get(ok_id, workspace=workspace).status is RunStatus.FAILED
    assert runs.get(ok_id, workspace=workspace).metrics == {"loss": 1 / 2500}

    clean = run_script("import parity\nrun = parity.start_run()\nprint(run.id)\n", repo)
    assert runs.get(clean.stdout.strip(), workspace=workspace).status is RunStatus.FINISHED
    workspace.close()


def test_a_hard_crash_loses_at_most_what_was_not_yet_written(repo: Path) -> None:
    script = """
import os, time, parity
from parity.tracking.store import RunStore
run = parity.start_run(name="crash")
for step in range(100):
    run.log_metric("loss", float(step))
written = RunStore(run.workspace.meta, lambda: 0)
deadline = time.monotonic() + 30
while written.count_metric_points(run.id) < 100 and time.monotonic() < deadline:
    time.sleep(0.05)  # no flush: the writer thread writes these within its interval
for step in range(100, 150):
    run.log_metric("loss", float(step))
print(run.id, flush=True)
os._exit(9)  # no flush, no atexit: like SIGKILL or a power cut
"""
    started = time.perf_counter()
    result = run_script(script, repo)
    assert result.returncode == 9
    workspace = open_workspace(repo, environ={})
    view = runs.get(result.stdout.strip(), workspace=workspace)
    assert view.status is RunStatus.RUNNING  # nobody was left to end it
    from parity.tracking.store import RunStore

    points = RunStore(workspace.meta, lambda: 0).count_metric_points(view.id)
    assert 100 <= points <= 150
    assert time.perf_counter() - started < 60
    workspace.close()
