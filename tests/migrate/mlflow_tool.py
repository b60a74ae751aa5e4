"""MLflow itself, in a venv of its own under .bench/ (never in Parity's lock), for the tests that
check what MLflow's own client reads. Made once; pytest-xdist workers wait on a lock for it."""

from __future__ import annotations

import fcntl
import json
import subprocess
from pathlib import Path
from typing import Any

from benchmarks._support import BENCH, tool_venv

# The benchmarks' MLflow release, the scikit-learn in Parity's uv.lock, and a PostgreSQL driver
# for MLflow's own use. One venv for every MLflow test, made once under a lock: pytest-xdist
# workers would otherwise install into it at the same time.
MLFLOW = ("mlflow==3.17.2", "scikit-learn==1.9.1", "psycopg2-binary==2.9.11")


def mlflow_python() -> Path:
    BENCH.mkdir(parents=True, exist_ok=True)
    with (BENCH / ".mlflow.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return tool_venv("mlflow-tests", *MLFLOW)


def run_script(python: Path, script: str, *args: str, timeout: float = 600) -> Any:
    """Run ``script`` with MLflow's python; it prints one JSON document, returned parsed."""
    done = subprocess.run(
        [str(python), "-c", script, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])
