"""Serving: Parity vs `mlflow models serve`, same model, same payload, same load, interleaved.

Both serve the same scikit-learn pipeline (trained identically in each tool's own venv) on
loopback; wrk sends the same MLflow-format request (one row, ``dataframe_split``) to each
server's ``/invocations`` at 8 connections and at 1, alternating between the tools. Start-up time
is from launching the command to the first ready answer, with Python's bytecode cached (as in an
installed tool; the load tests run so) and with nothing cached (every import compiled from
source, the standard library's included).

    python -m benchmarks serve        (needs wrk: apt-get install wrk)

``--startup`` measures start-up alone (no wrk needed), as issue 21 sets the goal: from launching
the command to the first prediction answered (the first 200 from ``/invocations``), with the
bytecode cached, every server started in turn in each round (the order rotating round by
round), medians and each round's ratio reported with the load average. ``--compare PYTHON``
adds another Parity install (for example ``main``'s venv) to the same rounds: a before/after
from one run.

    python -m benchmarks serve --startup [--rounds N] [--compare PYTHON]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
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


def models(work: Path) -> tuple[Path, Path, Path]:
    """(MLflow's python, MLflow's saved model, the Parity workspace holding ``bc@production``)."""
    mlflow_python = tool_venv("mlflow", "mlflow==3.17.2", "scikit-learn==1.9.1")
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
    return mlflow_python, mlflow_model, project


def mlflow_command(mlflow_python: Path, model: Path, port: int) -> list[str]:
    return [
        str(mlflow_python.parent / "mlflow"),
        "models",
        "serve",
        "-m",
        str(model),
        "--env-manager",
        "local",
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
    ]


def session_cpu_seconds(session: int) -> float:
    """CPU seconds (user and system) spent so far by every process of ``session``, and by the
    children they reaped: what a start-up cost, whatever else the machine was running."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # ended meanwhile
        if int(fields[3]) == session:  # fields[0] is the state, [3] the session id
            total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / os.sysconf("SC_CLK_TCK")


def first_prediction(command: list[str], cwd: Path, port: int, body: bytes) -> tuple[float, float]:
    """Seconds from launching ``command`` to its first 200 from ``/invocations``, and the CPU
    seconds its processes had used by then; the server's whole process group (MLflow starts
    uvicorn as a child) is stopped and waited for after."""
    env = python_env(True)
    env["PATH"] = f"{Path(command[0]).parent}:{env.get('PATH', '')}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/invocations",
        data=body,
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        elapsed = time.perf_counter() - started
                        return elapsed, session_cpu_seconds(process.pid)
            except urllib.error.HTTPError as refused:
                refused.close()  # not ready yet (MLflow answers 503 while loading)
            except OSError:
                pass
            if process.poll() is not None:
                error = process.stderr.read().decode()  # type: ignore[union-attr]
                raise RuntimeError(f"{' '.join(command)} exited:\n{error[-2000:]}")
            if time.perf_counter() - started > 180:
                raise TimeoutError(f"{' '.join(command)} answered no prediction in 180 s")
            time.sleep(0.005)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have exited already
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        process.stderr.close()  # type: ignore[union-attr]


def startup(rounds: int, compare: str | None) -> None:
    work = Path(tempfile.mkdtemp(prefix="parity-bench-serve-startup-"))
    mlflow_python, mlflow_model, project = models(work)
    body = payload().encode()
    pythons = {"Parity": sys.executable, **({"compared": compare} if compare else {})}

    # Each Parity install serves its own copy of the workspace: another version may migrate the
    # database to a schema this one would refuse.
    folders = {"MLflow": project, "Parity": project}
    if compare:
        folders["compared"] = Path(shutil.copytree(project, work / "project-compared"))

    def command(tool: str, port: int) -> list[str]:
        if tool == "MLflow":
            return mlflow_command(mlflow_python, mlflow_model, port)
        return [pythons[tool], "-m", "parity", "serve", "bc@production", "--port", str(port)]

    tools = ["MLflow", *pythons]
    samples: dict[str, list[float]] = {tool: [] for tool in tools}
    cpu: dict[str, list[float]] = {tool: [] for tool in tools}
    loads = [os.getloadavg()[0]]
    for round_ in range(rounds + 1):  # the first round fills the bytecode cache: not counted
        order = tools[round_ % len(tools) :] + tools[: round_ % len(tools)]
        for tool in order:
            port = free_port()
            seconds, used = first_prediction(command(tool, port), folders[tool], port, body)
            if round_:
                samples[tool].append(seconds)
                cpu[tool].append(used)
        loads.append(os.getloadavg()[0])
    rows = []
    for tool in tools:
        paired = zip(samples[tool], samples["MLflow"], strict=True)
        ratios = [ours / anchor for ours, anchor in paired]
        rows.append(
            (
                tool,
                f"{statistics.median(samples[tool]):.2f}",
                f"{min(samples[tool]):.2f}-{max(samples[tool]):.2f}",
                f"{statistics.median(ratios):.2f}x",
                f"{min(ratios):.2f}-{max(ratios):.2f}x",
                f"{statistics.median(cpu[tool]):.2f}",
                f"{statistics.median(cpu[tool]) / statistics.median(cpu['MLflow']):.2f}x",
            )
        )
    print(
        table(
            [
                "server",
                "first prediction s (median)",
                "range s",
                "/ MLflow (median of rounds)",
                "/ MLflow, each round",
                "CPU s (median)",
                "CPU / MLflow",
            ],
            rows,
        )
    )
    print(
        f"\n{rounds} rounds, bytecode cached; load average (1 min) from {min(loads):.2f} to"
        f" {max(loads):.2f} ({os.cpu_count()} cores)"
    )
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks serve")
    parser.add_argument("--startup", action="store_true", help="time start-up alone (no wrk)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="timed rounds")
    parser.add_argument("--compare", help="another Parity install's python, timed alongside")
    args, _ = parser.parse_known_args(sys.argv[2:] if sys.argv[1:2] == ["serve"] else None)
    if args.startup:
        startup(args.rounds, args.compare)
        return
    if shutil.which("wrk") is None:
        sys.exit("benchmarks/serve needs wrk: apt-get install wrk")
    work = Path(tempfile.mkdtemp(prefix="parity-bench-serve-"))
    mlflow_python, mlflow_model, project = models(work)
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
    mlflow_cmd = mlflow_command(mlflow_python, mlflow_model, mlflow_port)
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
    for _ in range(args.rounds):
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
