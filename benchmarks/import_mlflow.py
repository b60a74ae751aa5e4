"""Import from MLflow: ``parity import mlflow`` against mlflow-export-import, one store, one run.

The store: MLflow's SQLite tracking database with 1,000 runs × 10 metrics × 1,000 steps (10
million points) and 2 params and a few tags per run. MLflow creates the schema and the first
run; the rest are copied row for row with sqlite3 (creating them through MLflow's API would
take an hour), ``latest_metrics`` included, so MLflow's own client reads them as its own.

Timed, each from a fresh process:
- ``parity import mlflow --from sqlite:///mlflow.db`` into a new workspace (metric points/s);
- mlflow-export-import moving the same experiment into a second MLflow SQLite store (served
  by ``mlflow server``, see ``time_export_import``): ``export-experiment`` then
  ``import-experiment`` (the only tool that moves MLflow history; it goes MLflow to MLflow).

    python -m benchmarks import_mlflow --export-timeout 14400  (full size: ~2 h for the other)
    python -m benchmarks import_mlflow --runs 50     (a quick check)
    python -m benchmarks import_mlflow --skip-export (Parity alone)
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks._support import BENCH, clean_env, free_port, table, tool_venv, wait_for

RUNS = 1000
METRICS = 10
STEPS = 1000
EXPORT_TIMEOUT = 3600
MLFLOW = ("mlflow==3.17.2", "mlflow-export-import==1.2.0", "tabulate")  # 1.2.0 omits tabulate

_SCHEMA = """
import sys
import mlflow
from mlflow.tracking import MlflowClient
mlflow.set_tracking_uri(sys.argv[1])
experiment = MlflowClient().create_experiment("bench", artifact_location=sys.argv[2])
with mlflow.start_run(experiment_id=experiment, run_name="run-0") as run:
    mlflow.log_params({"lr": "0.01", "model": "rf"})
print(run.info.run_id)
"""


def make_store(python: Path, folder: Path, runs: int) -> tuple[str, int]:
    """An MLflow SQLite store of ``runs`` runs; returns its URI and its metric point count."""
    database = folder / "mlflow.db"
    uri = f"sqlite:///{database}"
    made = subprocess.run(
        [str(python), "-c", _SCHEMA, uri, (folder / "artifacts").as_uri()],
        capture_output=True,
        text=True,
        check=True,
        env=clean_env(),
        cwd=folder,
    )
    template = made.stdout.strip().splitlines()[-1]
    connection = sqlite3.connect(database)
    try:
        _copy_runs(connection, template, runs)
    finally:
        connection.close()
    return uri, runs * METRICS * STEPS


def _copy_runs(connection: sqlite3.Connection, template: str, runs: int) -> None:
    row = connection.execute("SELECT * FROM runs WHERE run_uuid = ?", (template,)).fetchone()
    columns = [d[0] for d in connection.execute("SELECT * FROM runs LIMIT 0").description]
    connection.execute("DELETE FROM params")
    connection.execute("DELETE FROM tags")
    connection.execute("DELETE FROM runs")
    start = int(time.time() * 1000) - runs * 60_000
    marks = ", ".join("?" * len(columns))
    for index in range(runs):
        run_id = uuid.uuid4().hex
        values = dict(zip(columns, row, strict=True))
        artifacts = str(values["artifact_uri"]).replace(template, run_id)
        begin = start + index * 60_000
        values |= {
            "run_uuid": run_id,
            "name": f"run-{index}",
            "start_time": begin,
            "end_time": begin + STEPS * 10,
            "status": "FINISHED",
            "artifact_uri": artifacts,
        }
        connection.execute(f"INSERT INTO runs VALUES ({marks})", [values[c] for c in columns])
        connection.executemany(
            "INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)",
            [("lr", str(0.001 * (index + 1)), run_id), ("model", "rf", run_id)],
        )
        connection.executemany(
            "INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)",
            [("mlflow.runName", f"run-{index}", run_id), ("mlflow.user", "bench", run_id)],
        )
        points = [
            (f"m{k}", 1.0 / (step + k + 1), begin + step * 10, run_id, step, 0)
            for k in range(METRICS)
            for step in range(STEPS)
        ]
        connection.executemany(
            "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            points,
        )
        connection.executemany(
            "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            [
                (f"m{k}", 1.0 / (STEPS + k), begin + (STEPS - 1) * 10, STEPS - 1, run_id)
                for k in range(METRICS)
            ],
        )
        if index % 50 == 49:
            connection.commit()
    connection.commit()


def time_parity(uri: str, folder: Path) -> float:
    project = folder / "project"
    project.mkdir()
    parity = [sys.executable, "-m", "parity"]
    subprocess.run([*parity, "init", str(project)], check=True, capture_output=True)
    started = time.perf_counter()
    done = subprocess.run(
        [*parity, "import", "mlflow", "--from", uri], cwd=project, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"parity import failed: {done.stderr[-2000:]}")
    return elapsed


def time_export_import(
    python: Path, uri: str, folder: Path, limit: float = EXPORT_TIMEOUT
) -> tuple[float | None, str]:
    """Seconds for export-experiment + import-experiment, or None and why it did not finish.

    The copy goes through an ``mlflow server`` over the second SQLite store: version 1.2.0
    only handles MLflow's REST errors (straight into SQLite, creating the experiment on its
    first run fails with "Experiment(name=bench) already exists")."""
    tools = python.parent
    exported = folder / "exported"
    port = free_port()
    server = subprocess.Popen(
        [
            str(tools / "mlflow"),
            "server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{folder / 'copy.db'}",
            "--default-artifact-root",
            (folder / "copy-artifacts").as_uri(),
            "--workers",
            "1",
        ],
        cwd=folder,
        env=clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(f"http://127.0.0.1:{port}/health", timeout=300)
        steps = [
            (
                [
                    str(tools / "export-experiment"),
                    "--experiment",
                    "bench",
                    "--output-dir",
                    str(exported),
                ],
                uri,
            ),
            (
                [
                    str(tools / "import-experiment"),
                    "--experiment-name",
                    "bench",
                    "--input-dir",
                    str(exported),
                ],
                f"http://127.0.0.1:{port}",
            ),
        ]
        started = time.perf_counter()
        for command, tracking in steps:
            try:
                done = subprocess.run(
                    command,
                    cwd=folder,
                    env=clean_env(MLFLOW_TRACKING_URI=tracking),
                    capture_output=True,
                    text=True,
                    timeout=limit - (time.perf_counter() - started),
                )
            except subprocess.TimeoutExpired:
                return None, f"did not finish within {limit:.0f} s"
            if done.returncode != 0:
                errors = [line for line in done.stderr.splitlines() if "Error" in line]
                return None, f"{Path(command[0]).name} failed: {(errors or ['?'])[-1]}"
        return time.perf_counter() - started, ""
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks import_mlflow")
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument(
        "--skip-export",
        action="store_true",
        help="time Parity only",
    )
    parser.add_argument(
        "--export-timeout",
        type=float,
        default=EXPORT_TIMEOUT,
        help="seconds mlflow-export-import may take (it moves ~1,300 points/s: ~2 h at full size)",
    )
    options = parser.parse_args(argv if argv is not None else sys.argv[2:])
    python = tool_venv("mlflow-export-import", *MLFLOW)
    folder = Path(tempfile.mkdtemp(prefix="import-mlflow-", dir=BENCH))
    try:
        started = time.perf_counter()
        uri, points = make_store(python, folder, options.runs)
        made = time.perf_counter() - started
        print(
            f"store: {options.runs} runs × {METRICS} metrics × {STEPS} steps = {points:,} "
            f"points, made in {made:.0f} s",
            flush=True,
        )
        parity = time_parity(uri, folder)
        print(f"parity import mlflow: {parity:.1f} s", flush=True)
        other, why = (
            (None, "skipped")
            if options.skip_export
            else time_export_import(python, uri, folder, options.export_timeout)
        )
        rows = [
            ["parity import mlflow", f"{parity:.1f}", f"{points / parity:,.0f}"],
            [
                "mlflow-export-import (export + import)",
                f"{other:.1f}" if other else why,
                f"{points / other:,.0f}" if other else "-",
            ],
        ]
        print(table(["tool", "seconds", "metric points/s"], rows))
        if other:
            print(f"parity is {other / parity:.1f}× faster")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
