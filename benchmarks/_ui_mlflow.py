"""The MLflow side of benchmarks/ui: what MLflow's UI asks its server for on the same data,
and how long its run page takes in Chromium to draw the same run's charts.

MLflow's runs table loads ``POST /ajax-api/2.0/mlflow/runs/search`` (100 runs a page); its run
page charts load ``GET /ajax-api/2.0/mlflow/metrics/get-history-bulk-interval`` per metric
(320 points each, sampled on the server). Both are timed as round trips to ``mlflow server``
on the same runs, and on a run of 10 metrics × 100,000 steps with the same spike. Then the run's
*Model metrics* tab is opened in Chromium, as Parity's run page is, and timed from navigation
start until every metric's Plotly chart holds its line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks._support import free_port, python_env, tool_venv, wait_for

SEED = r"""
import json, os, sqlite3, sys, time, uuid, random, math
config = json.loads(sys.argv[1])
os.environ["MLFLOW_TRACKING_URI"] = "sqlite:///" + config["db"]
from mlflow import MlflowClient
from mlflow.entities import Metric, Param
client = MlflowClient()
exp = client.create_experiment("bench", artifact_location=config["artifacts"])
now = int(time.time() * 1000)
template = client.create_run(exp, run_name="run-0").info.run_id
client.log_batch(template, metrics=[Metric(k, 0.5, now, 99) for k in ("acc", "loss", "f1")],
                 params=[Param("model", "rf"), Param("depth", "0"), Param("lr", "0.1")])
client.set_terminated(template)
charts = client.create_run(exp, run_name="charts").info.run_id
client.log_batch(charts, metrics=[Metric(f"m{k}", 0.0, now, 0) for k in range(config["metrics"])])
client.set_terminated(charts)
db = sqlite3.connect(config["db"])
row = db.execute("SELECT * FROM runs WHERE run_uuid = ?", (template,)).fetchone()
columns = [d[1] for d in db.execute("PRAGMA table_info(runs)")]
tag_rows = db.execute("SELECT key, value FROM tags WHERE run_uuid = ?", (template,)).fetchall()
rng = random.Random(15)
run_rows, tags, params, latest = [], [], [], []
for i in range(1, config["runs"]):
    rid = uuid.uuid4().hex
    values = dict(zip(columns, row))
    values.update(run_uuid=rid, name=f"run-{i}", start_time=values["start_time"] + i,
                  artifact_uri=values["artifact_uri"].replace(template, rid))
    run_rows.append(tuple(values[c] for c in columns))
    tags += [(k, f"run-{i}" if k == "mlflow.runName" else v, rid) for k, v in tag_rows]
    params += [("model", ("rf", "gbm", "logreg")[i % 3], rid), ("depth", str(i % 10), rid),
               ("lr", "0.1", rid)]
    latest += [(k, rng.random(), now, 99, 0, rid) for k in ("acc", "loss", "f1")]
points = []
for k in range(config["metrics"]):
    for s in range(config["steps"]):
        v = 50.0 if (k == 0 and s == 73214) else math.exp(-s / 20000) + 0.01 * math.sin(s / 50 + k)
        points.append((f"m{k}", v, now + s, charts, s, 0))
def insert(table, names, rows):
    marks = ", ".join("?" * len(names))
    db.executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)
with db:
    insert("runs", columns, run_rows)
    insert("tags", ["key", "value", "run_uuid"], tags)
    insert("params", ["key", "value", "run_uuid"], params)
    insert("latest_metrics", ["key", "value", "timestamp", "step", "is_nan", "run_uuid"], latest)
    db.execute("DELETE FROM metrics WHERE run_uuid = ?", (charts,))
    insert("metrics", ["key", "value", "timestamp", "run_uuid", "step", "is_nan"], points)
    # The latest point of each series, as logging would leave it: MLflow's UI charts a
    # metric's history only when its latest step is past 0.
    db.executemany(
        "UPDATE latest_metrics SET value = ?, timestamp = ?, step = ?"
        " WHERE run_uuid = ? AND key = ?",
        [(v, t, s, r, k) for k, v, t, r, s, _ in points[config["steps"] - 1 :: config["steps"]]])
db.close()
print(json.dumps({"experiment": exp, "charts": charts}))
"""

LIMIT_S = 60
SEARCHES = {
    "newest first": {"order_by": ["attributes.start_time DESC"]},
    "filter + sort": {
        "filter": "metrics.acc > 0.9 and params.model = 'rf'",
        "order_by": ["metrics.acc DESC"],
    },
    "sort by a param": {"order_by": ["params.depth ASC"]},
}


def _search_times(url: str, body: dict[str, Any], requests: int) -> tuple[float, float] | None:
    """p50 and p95 (ms) of ``requests`` searches after one warm-up; None when one search takes
    longer than a minute (at 100,000 runs MLflow's sort by a param took over 5 minutes)."""
    try:
        _post(f"{url}/ajax-api/2.0/mlflow/runs/search", body, timeout=LIMIT_S)
        times = []
        for _ in range(requests):
            begun = time.perf_counter()
            answer = _post(f"{url}/ajax-api/2.0/mlflow/runs/search", body, timeout=LIMIT_S)
            times.append((time.perf_counter() - begun) * 1000)
            assert answer.get("runs"), answer
    except TimeoutError:
        return None
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def _post(url: str, body: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as answer:
        found: dict[str, Any] = json.loads(answer.read())
        return found


def _get(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=120) as answer:
        found: dict[str, Any] = json.loads(answer.read())
        return found


def measure(
    work: Path, runs: int, metrics: int, steps: int, requests: int, draws: int
) -> dict[str, Any]:
    """Seed MLflow's SQLite store, serve it, time its UI's requests."""
    python = tool_venv("mlflow-server", "mlflow==3.17.2", "psycopg2-binary==2.9.11")
    db = work / "mlflow.db"
    config = {"db": str(db), "artifacts": str(work / "mlartifacts"), "runs": runs,
              "metrics": metrics, "steps": steps}  # fmt: skip
    started = time.perf_counter()
    seeded = subprocess.run(
        [str(python), "-c", SEED, json.dumps(config)],
        env=python_env(), capture_output=True, text=True, check=True,
    )  # fmt: skip
    ids = json.loads(seeded.stdout.strip().splitlines()[-1])
    seconds = time.perf_counter() - started
    port = free_port()
    server = subprocess.Popen(
        [str(python.parent / "mlflow"), "server", "--backend-store-uri", f"sqlite:///{db}",
         "--default-artifact-root", str(work / "mlartifacts"), "--host", "127.0.0.1",
         "--port", str(port), "--workers", "1"],
        env=python_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    results: dict[str, Any] = {"seed_s": seconds, "search": {}}
    try:
        wait_for(f"{url}/health", timeout=300)
        for name, extra in SEARCHES.items():
            body = {"experiment_ids": [ids["experiment"]], "max_results": 100, **extra}
            results["search"][name] = _search_times(url, body, requests)
        totals = []
        spike_kept = None
        for _ in range(4):
            begun = time.perf_counter()
            for k in range(metrics):
                history = _get(
                    f"{url}/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval"
                    f"?run_ids={ids['charts']}&metric_key=m{k}&max_results=320"
                )
                if k == 0:
                    spike_kept = any(m["value"] == 50.0 for m in history.get("metrics", []))
                    results["points"] = len(history.get("metrics", []))
            totals.append((time.perf_counter() - begun) * 1000)
        results["charts_ms"] = statistics.median(totals[1:])
        results["spike_kept"] = spike_kept
        results["draws_ms"] = chart_draws(url, ids["experiment"], ids["charts"], metrics, draws)
    finally:
        _stop(server)
    return results


# True once ``n`` Plotly charts hold a line of more than ten vertices (before its history arrives
# a chart shows the latest value alone; Plotly simplifies 320 points to a few dozen vertices on
# a chart this wide); remembers when that first held.
_DRAWN = """(n) => {
  const drawn = [...document.querySelectorAll('.js-plotly-plot')].filter((plot) =>
    [...plot.querySelectorAll('path.js-line')].some((line) =>
      (line.getAttribute('d') || '').split('L').length > 10));
  if (drawn.length < n) return false;
  window.benchDrawnAt = window.benchDrawnAt || performance.now();
  return true;
}"""


def chart_draws(url: str, experiment: str, run_id: str, metrics: int, draws: int) -> list[float]:
    """Milliseconds from navigation start to every metric chart drawn on MLflow's run page
    (its *Model metrics* tab), ``draws`` times after one warm-up load.

    MLflow draws only the charts in view, so the window is tall enough to hold all of them.
    Each load starts from a blank page: the page is a hash route, and moving between two
    hashes of one page is no navigation."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        sys.exit("the chart benchmark needs Debian's chromium: apt-get install -y chromium")
    page_url = f"{url}/#/experiments/{experiment}/runs/{run_id}/model-metrics"
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 2600})
        for attempt in range(draws + 1):
            page.goto("about:blank")
            page.goto(page_url)
            page.wait_for_function(_DRAWN, arg=metrics, polling="raf", timeout=LIMIT_S * 5000)
            if attempt:  # the first load fills the browser's cache of static files
                times.append(float(page.evaluate("window.benchDrawnAt")))
        browser.close()
    return times


def _stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server and its workers (its whole process group), and wait for them."""
    os.killpg(os.getpgid(server.pid), signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(os.getpgid(server.pid), signal.SIGKILL)
        server.wait()
