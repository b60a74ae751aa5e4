"""The team server against `mlflow server`, both on the same PostgreSQL, on loopback, in one run.

Rows (issue 14): a batch of 500 metrics (median request time), a client calling log_metric
10,000 times (points per second, the run's end included: every point is on the server when the
timer stops), search over 10,000 runs (median), and server start (spawn until the health route
answers, after each database was migrated once). Starts and batches are interleaved.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from benchmarks._support import ROOT, free_port, python_env, tool_venv, wait_for

PG = "postgresql://postgres@127.0.0.1:5432"
PARITY = str(ROOT / ".venv" / "bin" / "parity")
PYTHON = str(ROOT / ".venv" / "bin" / "python")
RUNS = int(os.environ.get("BENCH_SERVER_RUNS", "10000"))
LOG_CALLS = 10_000
MLFLOW_LOG_CALLS = 1_000  # MLflow's client sends one request per call: fewer calls, same rate
STARTS = 5
BATCHES = 30


def _database(name: str) -> None:
    for sql in (f"DROP DATABASE IF EXISTS {name}", f"CREATE DATABASE {name}"):
        subprocess.run(
            ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-c", sql],
            check=True,
        )


def _analyze(name: str) -> None:
    """Table statistics, as PostgreSQL's autovacuum keeps them within a minute of a bulk load."""
    subprocess.run(
        ["psql", "-q", "-h", "127.0.0.1", "-U", "postgres", "-d", name, "-c", "ANALYZE"],
        check=True,
    )


def _autovacuum() -> str:
    shown = subprocess.run(
        [
            "psql",
            "-qAt",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-c",
            "SHOW autovacuum",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return shown.stdout.strip()


class Servers:
    def __init__(self, work: Path, mlflow_python: Path) -> None:
        self.work = work
        self.mlflow_bin = str(mlflow_python.parent / "mlflow")
        self.workspace = work / "served"
        self.workspace.mkdir()
        self.env = python_env(
            PARITY_METADATA_URL=f"{PG.replace('://', '+psycopg://')}/bench_parity"
        )
        subprocess.run(
            [PARITY, "init", "."], cwd=self.workspace, env=self.env, check=True, capture_output=True
        )
        subprocess.run([PARITY, "server", "migrate"], cwd=self.workspace, env=self.env, check=True)
        made = subprocess.run(
            [PARITY, "server", "user", "create", "bench", "--admin", "--json"],
            cwd=self.workspace,
            env=self.env,
            check=True,
            capture_output=True,
            text=True,
        )
        self.token = json.loads(made.stdout)["token"]
        self.procs: list[subprocess.Popen[bytes]] = []

    def start_parity(self) -> tuple[str, float, subprocess.Popen[bytes]]:
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [PARITY, "server", "start", "--port", str(port)],
            cwd=self.workspace,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/api/v1/health")
        return url, time.perf_counter() - started, proc

    def start_mlflow(self) -> tuple[str, float, subprocess.Popen[bytes]]:
        port = free_port()
        started = time.perf_counter()
        proc = subprocess.Popen(
            [
                self.mlflow_bin,
                "server",
                "--backend-store-uri",
                f"{PG.replace('://', '+psycopg2://')}/bench_mlflow",
                "--default-artifact-root",
                str(self.work / "mlartifacts"),
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                "1",
            ],
            env=python_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}"
        wait_for(f"{url}/health", timeout=300)
        return url, time.perf_counter() - started, proc


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server and every process it started, and wait until all are gone: a worker
    still shutting down would otherwise take CPU from the next start being timed."""
    group = os.getpgid(proc.pid)
    os.killpg(group, signal.SIGTERM)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            break
        proc.poll()  # reap the leader, so the group can empty
        time.sleep(0.05)
    else:
        os.killpg(group, signal.SIGKILL)
    proc.wait()


def _median_ms(action: Callable[[], None], times: int) -> float:
    seconds = []
    for _ in range(times):
        started = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds) * 1000


def main() -> None:
    mlflow_python = tool_venv("mlflow-server", "mlflow==3.17.2", "psycopg2-binary==2.9.11")
    load = os.getloadavg()[0]
    _database("bench_parity")
    _database("bench_mlflow")
    with tempfile.TemporaryDirectory(prefix="bench-server-") as folder:
        work = Path(folder)
        servers = Servers(work, mlflow_python)
        # The first MLflow start creates its schema: not timed, as Parity's migrate is not.
        _, _, first = servers.start_mlflow()
        _stop(first)
        starts: dict[str, list[float]] = {"parity": [], "mlflow": []}
        for _ in range(STARTS):
            for name, start in (("parity", servers.start_parity), ("mlflow", servers.start_mlflow)):
                _, seconds, proc = start()
                starts[name].append(seconds)
                _stop(proc)
        parity_url, _, parity_proc = servers.start_parity()
        mlflow_url, _, mlflow_proc = servers.start_mlflow()
        try:
            rows = _measure(servers, parity_url, mlflow_url, work, mlflow_python)
        finally:
            _stop(parity_proc)
            _stop(mlflow_proc)
    start_p, start_m = statistics.median(starts["parity"]), statistics.median(starts["mlflow"])
    rows.append(
        (
            f"server start (s, median of {STARTS})",
            f"{start_p:.2f}",
            f"{start_m:.2f}",
            f"{start_p / start_m:.2f}× MLflow's time",
        )
    )
    print(f"load average at the start: {load:.2f}; PostgreSQL 127.0.0.1, loopback HTTP")
    for name, seconds in starts.items():
        print(f"{name} starts (s): " + ", ".join(f"{s:.2f}" for s in seconds))
    print(f"{'what':<44} {'parity':>12} {'mlflow':>12}  ratio")
    for what, ours, theirs, ratio in rows:
        print(f"{what:<44} {ours:>12} {theirs:>12}  {ratio}")


def _measure(
    servers: Servers, parity_url: str, mlflow_url: str, work: Path, mlflow_python: Path
) -> list[tuple[str, str, str, str]]:
    p = httpx.Client(
        base_url=f"{parity_url}/api/v1",
        headers={"Authorization": f"Bearer {servers.token}"},
        timeout=60,
    )
    m = httpx.Client(base_url=f"{mlflow_url}/api/2.0/mlflow", timeout=60)
    experiment = m.post("/experiments/create", json={"name": "bench"}).json()["experiment_id"]
    p_run = p.post("/experiments/bench/runs", json={}).json()["run_id"]
    m_run = m.post("/runs/create", json={"experiment_id": experiment}).json()["run"]["info"][
        "run_id"
    ]
    now = int(time.time() * 1000)

    def parity_batch() -> None:
        answer = p.post(
            f"/runs/{p_run}/metrics",
            json={
                "batch": uuid.uuid4().hex,
                "series": [
                    {
                        "key": f"m{k}",
                        "steps": list(range(50)),
                        "timestamps": [now] * 50,
                        "values": [float(i) for i in range(50)],
                    }
                    for k in range(10)
                ],
            },
        )
        answer.raise_for_status()

    step = [0]

    def mlflow_batch() -> None:
        step[0] += 1
        answer = m.post(
            "/runs/log-batch",
            json={
                "run_id": m_run,
                "metrics": [
                    {"key": f"m{k}", "value": float(i), "timestamp": now, "step": step[0] * 50 + i}
                    for k in range(10)
                    for i in range(50)
                ],
            },
        )
        answer.raise_for_status()

    batch_p, batch_m = [], []
    for _ in range(BATCHES):
        batch_p.append(_median_ms(parity_batch, 1))
        batch_m.append(_median_ms(mlflow_batch, 1))
    rows = [
        (
            "a batch of 500 metrics (ms, median)",
            f"{statistics.median(batch_p):.1f}",
            f"{statistics.median(batch_m):.1f}",
            f"{statistics.median(batch_m) / statistics.median(batch_p):.1f}× faster",
        )
    ]

    rate_p = _parity_client_rate(servers, parity_url, work)
    rate_m = _mlflow_client_rate(mlflow_python, mlflow_url, work)
    rows.append(
        (
            "client log_metric calls (points/s)",
            f"{rate_p:,.0f}",
            f"{rate_m:,.0f}",
            f"{rate_p / rate_m:.0f}× MLflow's rate",
        )
    )

    def make_parity(i: int) -> None:
        run = p.post("/experiments/search/runs", json={}).json()["run_id"]
        p.post(
            f"/runs/{run}/metrics",
            json={
                "batch": uuid.uuid4().hex,
                "keys": ["acc"],
                "values": [(i % 1000) / 1000],
                "steps": [0],
                "timestamps": [now],
            },
        )

    search_exp = m.post("/experiments/create", json={"name": "search"}).json()["experiment_id"]

    def make_mlflow(i: int) -> None:
        run = m.post("/runs/create", json={"experiment_id": search_exp}).json()["run"]["info"]
        m.post(
            "/runs/log-batch",
            json={
                "run_id": run["run_id"],
                "metrics": [
                    {"key": "acc", "value": (i % 1000) / 1000, "timestamp": now, "step": 0}
                ],
            },
        )

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(make_parity, range(RUNS)))
        list(pool.map(make_mlflow, range(RUNS)))

    def parity_search() -> None:
        answer = p.get(
            "/runs",
            params={
                "experiment": "search",
                "filter": "metrics.acc > 0.9",
                "sort": "-metrics.acc",
                "limit": 100,
            },
        )
        answer.raise_for_status()
        assert len(answer.json()["runs"]) == 100

    def mlflow_search() -> None:
        answer = m.post(
            "/runs/search",
            json={
                "experiment_ids": [search_exp],
                "filter": "metrics.acc > 0.9",
                "order_by": ["metrics.acc DESC"],
                "max_results": 100,
            },
        )
        answer.raise_for_status()
        assert len(answer.json()["runs"]) == 100

    # Right after the runs are made the planner may have no statistics (autovacuum has not
    # run yet, or is off), then with them: both states are a team server's, the first briefly.
    for state in (f"before ANALYZE, autovacuum {_autovacuum()}", "after ANALYZE"):
        if state == "after ANALYZE":
            _analyze("bench_parity")
            _analyze("bench_mlflow")
        search_p, search_m = [], []
        for _ in range(10):
            search_p.append(_median_ms(parity_search, 1))
            search_m.append(_median_ms(mlflow_search, 1))
        rows.append(
            (
                f"search {RUNS:,} runs, top 100 (ms, median), {state}",
                f"{statistics.median(search_p):.1f}",
                f"{statistics.median(search_m):.1f}",
                f"{statistics.median(search_m) / statistics.median(search_p):.1f}× faster",
            )
        )
    return rows


_PARITY_CLIENT = """
import json, sys, time
import parity
n = int(sys.argv[1])
started = time.perf_counter()
with parity.start_run(experiment="client") as run:
    for i in range(n):
        run.log_metric("loss", 1.0 / (i + 1), step=i)
print(json.dumps({"seconds": time.perf_counter() - started, "run": run.id}))
"""

_MLFLOW_CLIENT = """
import json, sys, time
import mlflow
mlflow.set_tracking_uri(sys.argv[2])
mlflow.set_experiment("client")
n = int(sys.argv[1])
started = time.perf_counter()
with mlflow.start_run():
    for i in range(n):
        mlflow.log_metric("loss", 1.0 / (i + 1), step=i)
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


def _parity_client_rate(servers: Servers, url: str, work: Path) -> float:
    client = work / "client"
    client.mkdir()
    env = python_env(PARITY_SERVER_URL=url, PARITY_TOKEN=servers.token)
    subprocess.run([PARITY, "init", "."], cwd=client, env=env, check=True, capture_output=True)
    done = subprocess.run(
        [PYTHON, "-c", _PARITY_CLIENT, str(LOG_CALLS)],
        cwd=client,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    result = json.loads(done.stdout.strip().splitlines()[-1])
    with httpx.Client(headers={"Authorization": f"Bearer {servers.token}"}) as http:
        stored = http.get(f"{url}/api/v1/runs/{result['run']}/metrics/count").json()
    count = stored["points"]
    if count != LOG_CALLS:
        raise SystemExit(f"parity stored {count} of {LOG_CALLS} points")
    return LOG_CALLS / float(result["seconds"])


def _mlflow_client_rate(mlflow_python: Path, url: str, work: Path) -> float:
    done = subprocess.run(
        [str(mlflow_python), "-c", _MLFLOW_CLIENT, str(MLFLOW_LOG_CALLS), url],
        cwd=work,
        env=python_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return MLFLOW_LOG_CALLS / float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


if __name__ == "__main__":
    main()
