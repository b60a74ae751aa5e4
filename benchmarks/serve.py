"""Serving: Parity vs `mlflow models serve`, same model, same payload, same load, interleaved.

Both serve the same scikit-learn pipeline (trained identically in each tool's own venv) on
loopback; wrk sends the same MLflow-format request (one row, ``dataframe_split``) to each
server's ``/invocations`` at 8 connections and at 1, alternating between the tools. Start-up time
is from launching the command to the first ready answer, with Python's bytecode cached (as in an
installed tool; the load tests run so) and with nothing cached (every import compiled from
source, the standard library's included).

    python -m benchmarks serve        (needs wrk: apt-get install wrk)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks._support import clean_env, free_port, python_env, table, tool_venv, wait_for

DURATION = os.environ.get("PARITY_BENCH_DURATION", "10s")  # e.g. 2s while debugging
ROUNDS = int(os.environ.get("PARITY_BENCH_ROUNDS", "2"))
TRAIN = """
import sys
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
frame = load_breast_cancer(as_frame=True).frame
features = frame.drop(columns="target")
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
model.fit(features, frame["target"])
"""
MLFLOW_SAVE = (
    TRAIN
    + """
import mlflow.sklearn
mlflow.sklearn.save_model(model, sys.argv[1], input_example=features.iloc[:5])
"""
)
PARITY_SAVE = (
    TRAIN
    + """
import parity
import parity.api.workspace
with parity.api.workspace.open() as workspace:
    model_id, _ = parity.models.save(model, input_example=features, workspace=workspace)
    version = parity.models.register(model_id, "bc", workspace=workspace)
    parity.models.alias("bc", version.version, "production", reason="bench", workspace=workspace)
"""
)
LUA = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = [==[{body}]==]
"""


def payload() -> str:
    from sklearn.datasets import load_breast_cancer

    features = load_breast_cancer(as_frame=True).frame.drop(columns="target")
    row = features.iloc[:1]
    return json.dumps(
        {"dataframe_split": {"columns": list(row.columns), "data": row.to_numpy().tolist()}}
    )


def run_wrk(url: str, connections: int, script: Path) -> dict[str, float]:
    output = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{DURATION}", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)", output, re.M)
        if not match:
            raise RuntimeError(f"wrk printed no {label}% latency:\n{output}")
        value, unit = float(match[1]), match[2]
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    if errors:
        raise RuntimeError(f"{url} answered {errors[1]} errors under load")
    return {"rps": rps, "p50": latency("50"), "p99": latency("99")}


def start(
    command: list[str], cwd: Path, ready_url: str, bytecode_cache: bool = True
) -> tuple[subprocess.Popen[bytes], float]:
    # MLflow starts uvicorn through PATH: put the tool's own bin folder first.
    env = python_env(bytecode_cache)
    env["PATH"] = f"{Path(command[0]).parent}:{env.get('PATH', '')}"
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(ready_url, timeout=180)
    return process, time.perf_counter() - started


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/serve needs wrk: apt-get install wrk")
    mlflow_python = tool_venv("mlflow", "mlflow==3.17.2", "scikit-learn==1.9.1")
    work = Path(tempfile.mkdtemp(prefix="parity-bench-serve-"))
    mlflow_model = work / "mlflow-model"
    subprocess.run(
        [str(mlflow_python), "-c", MLFLOW_SAVE, str(mlflow_model)],
        check=True,
        env=clean_env(),
        capture_output=True,
    )
    project = work / "project"
    project.mkdir()
    subprocess.run(
        [sys.executable, "-m", "parity", "init"], cwd=project, check=True, capture_output=True
    )
    subprocess.run([sys.executable, "-c", PARITY_SAVE], cwd=project, check=True, env=clean_env())
    script = work / "request.lua"
    script.write_text(LUA.format(body=payload()))

    parity_port, mlflow_port = free_port(), free_port()
    parity_cmd = [
        sys.executable,
        "-m",
        "parity",
        "serve",
        "bc@production",
        "--port",
        str(parity_port),
    ]
    mlflow_cmd = [
        str(mlflow_python.parent / "mlflow"),
        "models",
        "serve",
        "-m",
        str(mlflow_model),
        "--env-manager",
        "local",
        "--port",
        str(mlflow_port),
        "--host",
        "127.0.0.1",
    ]
    starts: dict[str, list[float]] = {"parity": [], "mlflow": []}
    cold_starts: dict[str, list[float]] = {"parity": [], "mlflow": []}
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    servers = (
        ("mlflow", mlflow_cmd, mlflow_port, "/health"),
        ("parity", parity_cmd, parity_port, "/v2/health/ready"),
    )
    for _tool, command, port, ready in servers:  # fills the bytecode cache: not timed
        process, _ = start(command, project, f"http://127.0.0.1:{port}{ready}")
        process.terminate()
        process.wait(timeout=30)
    for _ in range(ROUNDS):
        for tool, command, port, ready in servers:
            process, seconds = start(command, project, f"http://127.0.0.1:{port}{ready}", False)
            cold_starts[tool].append(seconds)
            process.terminate()
            process.wait(timeout=30)
        for tool, command, port, ready in servers:
            process, seconds = start(command, project, f"http://127.0.0.1:{port}{ready}")
            starts[tool].append(seconds)
            try:
                url = f"http://127.0.0.1:{port}/invocations"
                run_wrk(url, 8, script)  # warm-up
                for connections in (8, 1):
                    results.setdefault((tool, connections), []).append(
                        run_wrk(url, connections, script)
                    )
            finally:
                process.terminate()
                process.wait(timeout=30)

    def best(tool: str, connections: int, key: str) -> float:
        runs = results[(tool, connections)]
        return max(r[key] for r in runs) if key == "rps" else min(r[key] for r in runs)

    rows = []
    for connections in (8, 1):
        for tool in ("mlflow", "parity"):
            rows.append(
                (
                    tool,
                    connections,
                    f"{best(tool, connections, 'rps'):.0f}",
                    f"{best(tool, connections, 'p50'):.2f}",
                    f"{best(tool, connections, 'p99'):.2f}",
                )
            )
    print(table(["server", "connections", "requests/s", "p50 ms", "p99 ms"], rows))
    print()
    print(
        table(
            [
                "server",
                "start-up s, bytecode cached (best of rounds)",
                "start-up s, nothing cached",
            ],
            [
                (tool, f"{min(times):.2f}", f"{min(cold_starts[tool]):.2f}")
                for tool, times in starts.items()
            ],
        )
    )
    ratio_rps = best("parity", 8, "rps") / best("mlflow", 8, "rps")
    ratio_p99 = best("parity", 8, "p99") / best("mlflow", 8, "p99")
    ratio_start = min(starts["parity"]) / min(starts["mlflow"])
    ratio_cold = min(cold_starts["parity"]) / min(cold_starts["mlflow"])
    print(
        f"\nat 8 connections: Parity {ratio_rps:.1f}x MLflow's requests/s, p99 {ratio_p99:.2f}x;"
        f" start-up {ratio_start:.2f}x MLflow's ({ratio_cold:.2f}x with nothing cached)"
    )
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
