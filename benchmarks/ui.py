"""The web UI (issue 15): the runs table page's server time on 100,000 runs (SQLite, and
PostgreSQL when ``PARITY_TEST_POSTGRES_URL`` names one), and how long a run with 10 metrics ×
100,000 steps takes in Chromium from navigation to its charts drawn.

The runs are inserted in bulk (rows straight into the tracking tables, as the tracking
benchmark seeds MLflow's), since creating 100,000 runs one by one through the store takes ten
minutes here; the pages read them through the normal stores. PostgreSQL gets an ANALYZE after
the load, as autovacuum would give it shortly after (without one, the planner has no statistics
for the new rows and the same views take 2–3 times longer); SQLite gets none, as Parity runs
none. Page times are httpx round trips on loopback to a server in this process, p50 and p95 of
40 requests per view after 3 warm-ups.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from benchmarks._support import table

RUNS = int(os.environ.get("PARITY_BENCH_UI_RUNS", "100000"))
REQUESTS = 40
MLFLOW_REQUESTS = 5  # MLflow's searches take seconds each at 100,000 runs
CHART_METRICS = 10
CHART_STEPS = 100_000
DRAWS = 5
MLFLOW_DRAWS = 3  # its run page took about a minute to draw here under load
VIEWS = {
    "newest first": "/experiments/bench",
    "filter + sort": "/experiments/bench?filter=metrics.acc+%3E+0.9+and+params.model+%3D+%27rf%27"
    "&sort=-metrics.acc",
    "sort by a param": "/experiments/bench?sort=params.depth",
}


def seed_runs(folder: Path, metadata_url: str | None) -> None:
    from sqlalchemy import insert, text

    from parity.core.ids import new_run_id
    from parity.store.meta.tracking_tables import experiments, latest_metrics, run_params, runs
    from parity.workspace import init_workspace

    environ = {"PARITY_WORKSPACE": str(folder)}
    if metadata_url:
        environ["PARITY_METADATA_URL"] = metadata_url
    ws, _ = init_workspace(folder, environ=environ)
    rng = random.Random(15)
    now = int(time.time() * 1000) - RUNS * 1000
    try:
        with ws.meta.write() as connection:
            connection.execute(insert(experiments).values(name="bench", created_ms=now))
        for first in range(0, RUNS, 10_000):
            run_rows, params, metrics = [], [], []
            for i in range(first, min(RUNS, first + 10_000)):
                start = now + i * 1000
                run_id = new_run_id(start, rng.randbytes(12))
                run_rows.append({
                    "run_id": run_id, "experiment": "bench", "name": f"run-{i}",
                    "status": "finished", "start_ms": start, "end_ms": start + 60_000,
                    "user": "bench", "host": None, "command": "[]",
                })  # fmt: skip
                model = ("rf", "gbm", "logreg")[i % 3]
                params += [
                    {"run_id": run_id, "key": "model", "value": model, "number": None},
                    {"run_id": run_id, "key": "depth", "value": str(i % 10), "number": i % 10},
                    {"run_id": run_id, "key": "lr", "value": "0.1", "number": 0.1},
                ]
                metrics += [
                    {"run_id": run_id, "key": key, "value": rng.random(), "step": 99,
                     "timestamp_ms": start}
                    for key in ("acc", "loss", "f1")
                ]  # fmt: skip
            with ws.meta.write() as connection:
                connection.execute(insert(runs), run_rows)
                connection.execute(insert(run_params), params)
                connection.execute(insert(latest_metrics), metrics)
        if metadata_url:  # as autovacuum would soon after a bulk load: the planner's statistics
            with ws.meta.write() as connection:
                connection.execute(text("ANALYZE"))
    finally:
        ws.close()


@contextmanager
def serving(folder: Path, metadata_url: str | None) -> Iterator[str]:
    from tests.serve.live import live_server

    from parity.server.app import create_app
    from parity.server.context import build_context
    from parity.server.settings import ServerSettings

    settings = ServerSettings(workspace=str(folder), metadata_url=metadata_url, local_user="bench")
    context = build_context(settings)
    try:
        with live_server(create_app(context)) as address:
            yield f"http://{address}"
    finally:
        context.close()


def page_times(url: str) -> dict[str, tuple[float, float]]:
    found = {}
    with httpx.Client(base_url=url, timeout=60) as client:
        for name, path in VIEWS.items():
            for _ in range(3):
                assert client.get(path).status_code == 200
            times = []
            for _ in range(REQUESTS):
                started = time.perf_counter()
                answer = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200
                assert "run-" in answer.text
            times.sort()
            found[name] = (statistics.median(times), times[int(len(times) * 0.95) - 1])
    return found


def chart_times(work: Path) -> list[float]:
    from playwright.sync_api import sync_playwright
    from tests.ui.scenario import build

    executable = shutil.which("chromium")
    if executable is None:
        sys.exit("the chart benchmark needs Debian's chromium: apt-get install -y chromium")
    scenario = build(work / "charts", steps=CHART_STEPS, metrics=CHART_METRICS, extra_runs=0)
    times = []
    with serving(scenario.folder, None) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, headless=True)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        for attempt in range(DRAWS + 1):
            page.goto(f"{url}/runs/{scenario.baseline}")
            page.wait_for_selector("body[data-charts-drawn=true]", timeout=60_000)
            assert page.locator("figure.chart[data-drawn=true]").count() == CHART_METRICS
            if attempt:  # the first load fills the browser's cache of static files
                times.append(float(page.evaluate("window.parityChartsDrawnAt")))
        browser.close()
    return times


PARTS = ("pages", "charts", "mlflow")


def main() -> None:
    # PARITY_BENCH_UI_PARTS=charts re-times one part (the chart draw takes a minute; the
    # 100,000-run tables and MLflow's side take most of the half hour the whole run takes).
    chosen = os.environ.get("PARITY_BENCH_UI_PARTS", ",".join(PARTS)).split(",")
    unknown = set(chosen) - set(PARTS)
    if unknown:
        sys.exit(f"unknown PARITY_BENCH_UI_PARTS {sorted(unknown)}: choose from {PARTS}")
    work = Path(tempfile.mkdtemp(prefix="parity-bench-ui-"))
    rows = []
    backends = [("SQLite", None)]
    postgres = os.environ.get("PARITY_TEST_POSTGRES_URL")
    if postgres:
        backends.append(("PostgreSQL", postgres))
    if "pages" not in chosen:
        backends = []
    try:
        for label, url in backends:
            folder = work / label.lower()
            database = _fresh_database(url) if url else None
            started = time.perf_counter()
            seed_runs(folder, database)
            print(f"{label}: {RUNS:,} runs inserted in {time.perf_counter() - started:.1f} s")
            with serving(folder, database) as served:
                for view, (p50, p95) in page_times(served).items():
                    rows.append([label, view, f"{p50:.1f}", f"{p95:.1f}"])
        if rows:
            print(table(["database", f"runs table view ({RUNS:,} runs)", "p50 ms", "p95 ms"], rows))
        if "charts" in chosen:
            draws = chart_times(work)
            print(
                f"run page, {CHART_METRICS} metrics × {CHART_STEPS:,} steps, navigation to "
                f"charts drawn in Chromium: median {statistics.median(draws):.0f} ms, "
                f"max {max(draws):.0f} ms ({', '.join(f'{t:.0f}' for t in draws)})"
            )
        if "mlflow" in chosen:
            mlflow_side(work / "mlflow")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def mlflow_side(work: Path) -> None:
    """What MLflow's UI asks its server for, on the same runs and the same long run."""
    from benchmarks import _ui_mlflow

    work.mkdir(parents=True, exist_ok=True)
    found = _ui_mlflow.measure(
        work, RUNS, CHART_METRICS, CHART_STEPS, MLFLOW_REQUESTS, MLFLOW_DRAWS
    )
    print(f"MLflow 3.17.2 (SQLite): seeded in {found['seed_s']:.0f} s")
    rows = [
        [view, *(["> 60 s", "> 60 s"] if got is None else [f"{got[0]:.1f}", f"{got[1]:.1f}"])]
        for view, got in found["search"].items()
    ]
    print(table([f"MLflow runs/search, 100 of {RUNS:,} runs", "p50 ms", "p95 ms"], rows))
    print(
        f"MLflow get-history-bulk-interval, {CHART_METRICS} metrics one after another (as its "
        f"run page asks): {found['charts_ms']:.0f} ms for {found['points']} points each; "
        f"the one-step spike at step 73,214 kept: {found['spike_kept']}"
    )
    draws = found["draws_ms"]
    print(
        f"MLflow run page (Model metrics), {CHART_METRICS} metrics × {CHART_STEPS:,} steps, "
        f"navigation to charts drawn in Chromium: median {statistics.median(draws):.0f} ms, "
        f"max {max(draws):.0f} ms ({', '.join(f'{t:.0f}' for t in draws)})"
    )


def _fresh_database(url: str) -> str:
    """A new database on the server ``url`` names, so each run starts empty."""
    from sqlalchemy import create_engine, text

    name = f"bench_ui_{os.getpid()}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


if __name__ == "__main__":
    main()
