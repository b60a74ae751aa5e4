"""Tracking: Parity vs MLflow (SQLite backend), same machine, same run, same data.

Measured for each tool, in a git repository (MLflow's fluent API reads the commit of the
script it runs from, so its half runs as a script file there):

- per-call ``log_metric`` rate: MLflow writes every call; Parity buffers and writes in batches
- batch ingestion: MLflow ``log_batch`` (1,000 metrics a call, its maximum) against Parity's
  batch write (what its writer thread does, in batches of the same 1,000 points), and Parity end
  to end: a ``log_metric`` loop plus the ``flush()`` that makes every point durable
- runs created per second: ``with start_run(): pass`` in both fluent APIs
- a filtered, sorted search over 10,000 runs with 10 metrics and 2 params each:
  ``metrics.m0 > 0.5 and params.model = 'rf'`` ordered by ``metrics.m1`` descending, 100 results,
  median of 7. Both tools hold the same runs (the same values from one seed); MLflow's are
  created with its own API for the first run and copied row for row in SQL for the rest, since
  creating 10,000 through its API takes minutes. The number of matches is cross-checked.

    python -m benchmarks tracking          (BENCH_SCALE=small for a quick trial)
"""

from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._support import clean_env, table, tool_venv

SMALL = os.environ.get("BENCH_SCALE") == "small"
SEARCH_RUNS = 500 if SMALL else 10_000
METRICS_PER_RUN = 10
PARITY_CALLS = 20_000 if SMALL else 200_000
MLFLOW_CALLS = 100 if SMALL else 1_000
MLFLOW_BATCHES = 5 if SMALL else 30
CREATED_RUNS = 10 if SMALL else 50
SEARCH_REPEAT = 7
FILTER = "metrics.m0 > 0.5 and params.model = 'rf'"
SEED = 7


def search_runs_data() -> list[dict[str, Any]]:
    """The runs both tools are searched over: params and final metrics from one seed."""
    rng = random.Random(SEED)
    return [
        {
            "name": f"run-{i}",
            "params": {"model": ("rf", "gbm", "logreg")[i % 3], "depth": str(i % 10)},
            "metrics": {f"m{k}": rng.random() for k in range(METRICS_PER_RUN)},
        }
        for i in range(SEARCH_RUNS)
    ]


MLFLOW_HALF = r"""
import json, os, statistics, sqlite3, sys, time, uuid
config = json.loads(sys.argv[1])
os.environ["MLFLOW_TRACKING_URI"] = "sqlite:///" + config["db"]
import mlflow
from mlflow import MlflowClient
from mlflow.entities import Metric, Param

client = MlflowClient()
results = {}
exp = client.create_experiment("bench", artifact_location=config["artifacts"])
run = client.create_run(exp).info.run_id
started = time.perf_counter()
for i in range(config["calls"]):
    client.log_metric(run, "loss", 1.0 / (i + 1), step=i)
results["per_call"] = config["calls"] / (time.perf_counter() - started)

run = client.create_run(exp).info.run_id
now = int(time.time() * 1000)
started = time.perf_counter()
for b in range(config["batches"]):
    batch = [Metric("loss", 1.0 / (j + 1), now, b * 1000 + j) for j in range(1000)]
    client.log_batch(run, metrics=batch)
results["batch"] = config["batches"] * 1000 / (time.perf_counter() - started)

mlflow.set_experiment(experiment_id=exp)
started = time.perf_counter()
for _ in range(config["created"]):
    with mlflow.start_run():
        pass
results["runs_per_s"] = config["created"] / (time.perf_counter() - started)

# The searched runs: the first through the API, the rest copied from its rows.
search_exp = client.create_experiment("search", artifact_location=config["artifacts"])
runs = json.load(open(config["runs"]))
first = runs[0]
template = client.create_run(search_exp, run_name=first["name"]).info.run_id
client.log_batch(
    template,
    metrics=[Metric(k, v, now, 0) for k, v in first["metrics"].items()],
    params=[Param(k, v) for k, v in first["params"].items()],
)
client.set_terminated(template)
db = sqlite3.connect(config["db"])
row = db.execute("SELECT * FROM runs WHERE run_uuid = ?", (template,)).fetchone()
columns = [d[1] for d in db.execute("PRAGMA table_info(runs)")]
tag_rows = db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (template,)).fetchall()
run_rows, tags, params, metrics, latest = [], [], [], [], []
for index, spec in enumerate(runs[1:], start=1):
    rid = uuid.uuid4().hex
    values = dict(zip(columns, row))
    values.update(run_uuid=rid, name=spec["name"], start_time=values["start_time"] + index,
                  artifact_uri=values["artifact_uri"].replace(template, rid))
    run_rows.append(tuple(values[c] for c in columns))
    tags += [(k, spec["name"] if k == "mlflow.runName" else v, rid) for k, v in tag_rows]
    params += [(k, v, rid) for k, v in spec["params"].items()]
    metrics += [(k, v, now, rid, 0, 0) for k, v in spec["metrics"].items()]
    latest += [(k, v, now, 0, 0, rid) for k, v in spec["metrics"].items()]
def insert(table, names, rows):
    marks = ", ".join("?" * len(names))
    db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
with db:
    insert("runs", columns, run_rows)
    insert("tags", ["key", "value", "run_uuid"], tags)
    insert("params", ["key", "value", "run_uuid"], params)
    insert("metrics", ["key", "value", "timestamp", "run_uuid", "step", "is_nan"], metrics)
    insert("latest_metrics", ["key", "value", "timestamp", "step", "is_nan", "run_uuid"], latest)
db.close()

def search(limit):
    return client.search_runs([search_exp], filter_string=config["filter"],
                              order_by=["metrics.m1 DESC"], max_results=limit)
search(100)
times = []
for _ in range(config["repeat"]):
    started = time.perf_counter()
    found = search(100)
    times.append(time.perf_counter() - started)
results["search_ms"] = statistics.median(times) * 1000
results["search_first"] = found[0].data.tags["mlflow.runName"]
results["matches"] = len(search(50000))
print(json.dumps(results))
"""


def parity_half(project: Path, runs: list[dict[str, Any]]) -> dict[str, Any]:
    os.chdir(project)
    import parity
    from parity.api import runs as api_runs
    from parity.core.run import Metric, RunStatus
    from parity.tracking.store import RunStore
    from parity.workspace import now_ms, open_workspace

    workspace = open_workspace(project)
    results: dict[str, Any] = {}
    starts = []
    with parity.start_run(experiment="bench", workspace=workspace) as run:
        started = time.perf_counter()
        for i in range(PARITY_CALLS):
            run.log_metric("loss", 1.0 / (i + 1), step=i)
        calls = time.perf_counter() - started
        run.flush()
        total = time.perf_counter() - started
    results["per_call"] = PARITY_CALLS / calls
    results["end_to_end"] = PARITY_CALLS / total

    store = RunStore(workspace.meta, now_ms)
    batch_run = store.create(experiment="bench", name="batch", user="b", host=None, command=[])
    stamp = now_ms()
    batches = [
        [Metric("loss", 1.0 / (j + 1), b * 1000 + j, stamp) for j in range(1000)]
        for b in range(PARITY_CALLS // 1000)
    ]
    started = time.perf_counter()
    for batch in batches:
        store.log_metrics(batch_run, batch)
    results["batch"] = PARITY_CALLS / (time.perf_counter() - started)

    started = time.perf_counter()
    for _ in range(CREATED_RUNS):
        begun = time.perf_counter()
        with parity.start_run(experiment="created", workspace=workspace):
            starts.append(time.perf_counter() - begun)
    results["runs_per_s"] = CREATED_RUNS / (time.perf_counter() - started)
    results["start_run_ms"] = statistics.median(starts) * 1000

    for spec in runs:
        run_id = store.create(
            experiment="search", name=spec["name"], user="bench", host=None, command=["x"]
        )
        store.log_params(run_id, spec["params"])
        store.log_metrics(run_id, [Metric(k, v, 0, 0) for k, v in spec["metrics"].items()])
        store.end(run_id, RunStatus.FINISHED)

    def search(limit: int | None) -> list[Any]:
        return api_runs.list(
            "search", filter=FILTER, sort="-metrics.m1", limit=limit, workspace=workspace
        )

    search(100)
    times = []
    for _ in range(SEARCH_REPEAT):
        started = time.perf_counter()
        found = search(100)
        times.append(time.perf_counter() - started)
    results["search_ms"] = statistics.median(times) * 1000
    results["search_first"] = found[0].name
    results["matches"] = len(search(None))
    workspace.close()
    return results


def git_project(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for args in (
        ["init", "-q"],
        ["config", "user.email", "bench@example.com"],
        ["config", "user.name", "bench"],
    ):
        subprocess.run(["git", *args], cwd=folder, check=True)
    (folder / "train.py").write_text("print('train')\n")
    subprocess.run(["git", "add", "."], cwd=folder, check=True)
    subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=folder, check=True)
    return folder


def main() -> None:
    mlflow_python = tool_venv("mlflow", "mlflow==3.17.2", "scikit-learn==1.9.1")
    work = Path(tempfile.mkdtemp(prefix="parity-bench-tracking-"))
    runs = search_runs_data()
    (work / "runs.json").write_text(json.dumps(runs))
    mlflow_project = git_project(work / "mlflow-project")
    config = {
        "db": str(mlflow_project / "mlflow.db"),
        "artifacts": str(mlflow_project / "artifacts"),
        "runs": str(work / "runs.json"),
        "calls": MLFLOW_CALLS,
        "batches": MLFLOW_BATCHES,
        "created": CREATED_RUNS,
        "filter": FILTER,
        "repeat": SEARCH_REPEAT,
    }
    # A script file, not -c: MLflow reads the git commit of the script it is started from.
    script = mlflow_project / "bench_mlflow.py"
    script.write_text(MLFLOW_HALF)
    completed = subprocess.run(
        [str(mlflow_python), str(script), json.dumps(config)],
        cwd=mlflow_project,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        sys.exit(f"the MLflow half failed:\n{completed.stderr[-3000:]}")
    mlflow = json.loads(completed.stdout.strip().splitlines()[-1])

    parity_project = git_project(work / "parity-project")
    subprocess.run(
        [sys.executable, "-m", "parity", "init"], cwd=parity_project, check=True, env=clean_env()
    )
    here = Path.cwd()
    try:
        ours = parity_half(parity_project, runs)
    finally:
        os.chdir(here)
    if (ours["matches"], ours["search_first"]) != (mlflow["matches"], mlflow["search_first"]):
        sys.exit(f"the tools disagree on the search: parity {ours}, mlflow {mlflow}")

    def ratio(key: str, lower_is_better: bool = False) -> str:
        value = mlflow[key] / ours[key] if lower_is_better else ours[key] / mlflow[key]
        return f"{value:.1f}x"

    print(
        table(
            ["measure", "MLflow (SQLite)", "Parity (SQLite)", "Parity vs MLflow"],
            [
                (
                    "log_metric calls/s (one call each)",
                    f"{mlflow['per_call']:,.0f}",
                    f"{ours['per_call']:,.0f}",
                    ratio("per_call"),
                ),
                (
                    "points/s in 1,000-point batches (log_batch / batch write)",
                    f"{mlflow['batch']:,.0f}",
                    f"{ours['batch']:,.0f}",
                    ratio("batch"),
                ),
                (
                    "points/s end to end (log_batch / log_metric loop + flush)",
                    f"{mlflow['batch']:,.0f}",
                    f"{ours['end_to_end']:,.0f}",
                    f"{ours['end_to_end'] / mlflow['batch']:.1f}x",
                ),
                (
                    "runs created/s (with start_run(): pass)",
                    f"{mlflow['runs_per_s']:,.1f}",
                    f"{ours['runs_per_s']:,.1f}",
                    ratio("runs_per_s"),
                ),
                (
                    f"search {SEARCH_RUNS:,} runs, median ms ({mlflow['matches']} match)",
                    f"{mlflow['search_ms']:.1f}",
                    f"{ours['search_ms']:.1f}",
                    ratio("search_ms", lower_is_better=True),
                ),
            ],
        )
    )
    print(f"\nParity start_run() returns in {ours['start_run_ms']:.1f} ms (median)")
    print(
        f"points: Parity {PARITY_CALLS:,}, MLflow {MLFLOW_CALLS:,} single calls and "
        f"{MLFLOW_BATCHES * 1000:,} in batches; {CREATED_RUNS} runs created each"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
