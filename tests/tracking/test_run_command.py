"""``parity run -- CMD`` in a real git repository, through the real command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from parity.api import runs
from parity.core.run import RunStatus
from parity.workspace import open_workspace
from tests.conftest import run_parity
from tests.tracking.conftest import git

TRAIN = """
import sys
from pathlib import Path
import parity
with parity.start_run(params={"epochs": 2}) as run:
    for epoch in range(2):
        run.log_metric("loss", 1.0 / (epoch + 1))
    Path("out").mkdir(exist_ok=True)
    Path("out/model.txt").write_text("weights")
print("trained on", Path("data.csv").read_text().count("\\n"), "rows")
print("a warning", file=sys.stderr)
sys.exit(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
"""


def run_id_of(stderr: str) -> str:
    first = next(line for line in stderr.splitlines() if line.startswith("parity: run "))
    return first.split()[2]


@pytest.mark.slow
def test_a_wrapped_command_in_a_dirty_repo(repo: Path) -> None:
    (repo / "train.py").write_text(TRAIN)  # an uncommitted change to a tracked file
    (repo / "data.csv").write_text("a,b\n1,2\n3,4\n")
    expected_diff = git(repo, "diff").encode()  # versioning data.csv will touch .gitignore
    result = run_parity(
        "run", "--experiment", "churn", "--name", "wrapped", "--param", "lr=0.1",
        "--input", "data.csv", "--output", "out",
        "--", sys.executable, "train.py",
        cwd=repo,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "trained on 3 rows" in result.stdout  # the user still sees the output
    assert "a warning" in result.stderr
    workspace = open_workspace(repo, environ={})
    view = runs.get(run_id_of(result.stderr), workspace=workspace)
    assert view.status is RunStatus.FINISHED
    assert view.exit_code == 0
    assert view.command == (sys.executable, "train.py")
    assert view.params == {"epochs": "2", "lr": "0.1"}  # the child logged into the same run
    assert view.metrics == {"loss": 0.5}
    assert view.code is not None
    assert view.code["dirty"] is True
    diff = workspace.objects.get_bytes(view.code["diff_digest"])
    assert diff == expected_diff
    assert [link.path for link in view.inputs] == ["data.csv"]
    assert [link.path for link in view.outputs] == ["out"]
    logs = {a.path: a for a in view.artifacts if a.kind == "log"}
    assert workspace.objects.get_bytes(logs["stdout.txt"].digest) == b"trained on 3 rows\n"
    assert workspace.objects.get_bytes(logs["stderr.txt"].digest) == b"a warning\n"
    assert view.environment_id is not None
    workspace.close()


def test_a_failing_command_leaves_a_failed_run_and_its_exit_code(repo: Path) -> None:
    (repo / "train.py").write_text(TRAIN)
    (repo / "data.csv").write_text("a\n")
    result = run_parity("run", "--output", "out", "--", sys.executable, "train.py", "7", cwd=repo)
    assert result.returncode == 7
    workspace = open_workspace(repo, environ={})
    view = runs.get(run_id_of(result.stderr), workspace=workspace)
    assert view.status is RunStatus.FAILED
    assert view.exit_code == 7
    assert view.outputs == ()  # a failed command's outputs are not versioned
    assert "failed (exit code 7)" in result.stderr
    workspace.close()


@pytest.mark.slow
def test_a_program_that_is_not_found_records_nothing(repo: Path) -> None:
    for missing in ("no-such-program-here", "./no-such-script.sh"):
        result = run_parity("run", "--", missing, cwd=repo)
        assert result.returncode == 3
        assert f"error: command not found: {missing}" in result.stderr
    assert json.loads(run_parity("runs", "list", "--json", cwd=repo).stdout) == []


def test_a_command_that_cannot_start(repo: Path) -> None:
    (repo / "train.sh").write_text("#!/bin/sh\necho hi\n")  # not executable
    result = run_parity("run", "--", "./train.sh", cwd=repo)
    assert result.returncode == 2
    assert "error: cannot run ./train.sh" in result.stderr
    listed = json.loads(run_parity("runs", "list", "--json", cwd=repo).stdout)
    assert [(r["status"], r["tags"]["error"][:10]) for r in listed] == [("failed", "cannot run")]


@pytest.mark.slow
def test_bad_params_and_missing_command(repo: Path) -> None:
    bad = run_parity("run", "--param", "novalue", "--", "true", cwd=repo)
    assert bad.returncode == 2
    assert "--param 'novalue' is not KEY=VALUE" in bad.stderr
    missing = run_parity("run", cwd=repo)
    assert missing.returncode == 2


def test_sigterm_reaches_the_command_and_the_run_is_killed(repo: Path) -> None:
    sleeper = "import time\nprint('ready', flush=True)\ntime.sleep(60)\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    process = subprocess.Popen(
        [sys.executable, "-m", "parity", "run", "--", sys.executable, "-c", sleeper],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "ready"
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 128 + signal.SIGTERM, stderr
    workspace = open_workspace(repo, environ={})
    view = runs.get(run_id_of(stderr), workspace=workspace)
    assert (view.status, view.exit_code) == (RunStatus.KILLED, 128 + signal.SIGTERM)
    workspace.close()
