"""Start-up: workspace commands and new runs, each next to the command users would compare it with.

In one small workspace (a git repository holding a 50-file data folder, one finished run and
one registered model ``clf``) and a DVC repository of the same folder, every command runs as a
fresh process, interleaved round by round with its anchor; the medians are reported with the
load average:

- ``parity status``, ``runs list``, ``models show clf`` and ``data status`` against
  ``dvc status`` of the unchanged tree (issue 21's goal: <= 1/3 of it, <= 150 ms);
- ``parity env capture --python VENV --json`` inside the workspace (it stores the record)
  against that venv's ``pip freeze`` (goal: <= 0.5x);
- each twice over: with Python's bytecode cache (written under .bench/pycache, the steady state
  of an installed tool) and with ``PYTHONDONTWRITEBYTECODE=1`` as containers set it, reading
  only the bytecode compiled at install (``make sync`` compiles Parity's venv; the DVC venv is
  compiled here the same way);
- ``parity status`` with ``PYTHONDONTWRITEBYTECODE=1`` and nothing of the venv compiled (only
  the standard library's bytecode, in a cache of its own): a venv installed without
  ``--compile-bytecode``, as ``make sync`` built it before;
- runs created per second, ``with start_run(): pass`` 50 times in one process (Parity's on one
  opened workspace): Parity against MLflow 3.17.2 on SQLite, each in a git repository,
  alternated round by round.

``--compare PYTHON`` adds another Parity install's figures (for example a venv of the previous
commit) to the same rounds: a before/after from one run.

    python -m benchmarks startup [--rounds N] [--run-rounds N] [--compare PYTHON]
                                 [--parts commands,runs]
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from benchmarks._support import BENCH, ROOT, clean_env, python_env, table, tool_venv

DATA_FILES = 50
CREATED_RUNS = 50
MLFLOW = ("mlflow==3.17.2", "scikit-learn==1.9.1")
LOG_MODEL = """
import parity
from sklearn.linear_model import LogisticRegression
model = LogisticRegression().fit([[0.0], [1.0], [0.0], [1.0]], [0, 1, 0, 1])
with parity.start_run(experiment="startup") as run:
    run.log_metric("loss", 0.1)
    run.log_model(model, registered_model_name="clf")
"""
# Each prints runs/s on its last line; a first run outside the timing creates the tables.
# Parity's runs share one opened workspace, as MLflow's share its tracking store (and as
# benchmarks/tracking.py measures it); without one each start_run opens the workspace itself.
PARITY_RUNS = """
import sys, time
import parity
from parity.api import workspace as workspaces
workspace = workspaces.open()
with parity.start_run(experiment="created", workspace=workspace):
    pass
started = time.perf_counter()
for _ in range(int(sys.argv[1])):
    with parity.start_run(experiment="created", workspace=workspace):
        pass
print(int(sys.argv[1]) / (time.perf_counter() - started))
"""
MLFLOW_RUNS = """
import sys, time
import mlflow
mlflow.set_experiment("created")
with mlflow.start_run():
    pass
started = time.perf_counter()
for _ in range(int(sys.argv[1])):
    with mlflow.start_run():
        pass
print(int(sys.argv[1]) / (time.perf_counter() - started))
"""


def run(command: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env or clean_env(), capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed in {cwd}:\n{done.stderr[-2000:]}")
    return done.stdout


def git_repository(folder: Path) -> Path:
    folder.mkdir(parents=True)
    run(["git", "init", "-q"], folder)
    run(["git", "config", "user.email", "bench@example.com"], folder)
    run(["git", "config", "user.name", "bench"], folder)
    (folder / "data").mkdir()
    for i in range(DATA_FILES):
        (folder / "data" / f"part-{i:02d}.csv").write_text(f"id,value\n{i},{i * i}\n")
    (folder / "train.py").write_text("print('train')\n")
    run(["git", "add", "train.py"], folder)
    run(["git", "commit", "-q", "-m", "start"], folder)
    return folder


def parity_workspace(folder: Path) -> Path:
    git_repository(folder)
    run([sys.executable, "-m", "parity", "init"], folder)
    run([sys.executable, "-m", "parity", "data", "add", "data"], folder)
    run([sys.executable, "-c", LOG_MODEL], folder)
    run(["git", "add", "-A"], folder)
    run(["git", "commit", "-q", "-m", "data"], folder)
    return folder


def dvc_repository(folder: Path, dvc: str) -> Path:
    git_repository(folder)
    environ = clean_env(DVC_NO_ANALYTICS="1")
    run([dvc, "init", "-q"], folder, environ)
    run([dvc, "add", "-q", "data"], folder, environ)
    run(["git", "add", "-A"], folder)
    run(["git", "commit", "-q", "-m", "data"], folder)
    return folder


def stdlib_only_cache() -> Path:
    """A bytecode cache holding the standard library's bytecode and nothing else."""
    prefix = BENCH / "stdlib-pycache"
    marker = prefix / ".compiled"
    if not marker.exists():
        environ = {**clean_env(), "PYTHONPYCACHEPREFIX": str(prefix)}
        environ.pop("PYTHONDONTWRITEBYTECODE", None)
        stdlib = sysconfig.get_paths()["stdlib"]
        compile_stdlib = [sys.executable, "-m", "compileall", "-q", "-j", "0"]
        subprocess.run(
            [*compile_stdlib, "-x", "site-packages", stdlib],
            env=environ,
            capture_output=True,
            check=False,
        )
        marker.write_text(stdlib)
    return prefix


def compiled(venv_python: Path) -> None:
    """Compile a venv's site-packages once, as ``--compile-bytecode`` does at install."""
    marker = venv_python.parent.parent / ".compiled"
    if not marker.exists():
        site = run(
            [str(venv_python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            ROOT,
        )
        compileall.compile_dir(site.strip(), quiet=1, workers=0)
        marker.write_text("")


def no_write_env(**extra: str) -> dict[str, str]:
    """PYTHONDONTWRITEBYTECODE=1 and, unless ``extra`` names one, no cache prefix: only the
    bytecode compiled at install is read."""
    environ = clean_env(PYTHONDONTWRITEBYTECODE="1")
    environ.pop("PYTHONPYCACHEPREFIX", None)
    environ.update(extra)
    return environ


def seconds(command: Sequence[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode not in (0, 1):  # `dvc status` and `data status` may report changes
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks startup")
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds (median reported)")
    parser.add_argument("--run-rounds", type=int, default=5, help="rounds of the run rate")
    parser.add_argument("--compare", help="another Parity install's python, timed alongside")
    parser.add_argument(
        "--parts",
        default="commands,runs",
        help="what to time: 'commands' (the workspace commands), 'runs' (runs created/s), both",
    )
    args, _ = parser.parse_known_args(sys.argv[2:] if sys.argv[1:2] == ["startup"] else None)

    dvc_python = tool_venv("dvc", "dvc==3.67.*")
    mlflow_python = tool_venv("mlflow", *MLFLOW)
    compiled(dvc_python)
    dvc = str(dvc_python.parent / "dvc")
    work = Path(tempfile.mkdtemp(prefix="parity-bench-startup-"))
    workspace = parity_workspace(work / "parity")
    dvc_repo = dvc_repository(work / "dvc", dvc)
    mlflow_repo = git_repository(work / "mlflow")
    pip_freeze = [sys.executable, "-m", "pip", "freeze"]
    nothing_compiled = no_write_env(PYTHONPYCACHEPREFIX=str(stdlib_only_cache()))

    parities = {"Parity": sys.executable, **({"compared": args.compare} if args.compare else {})}
    commands = {
        "status": ["status"],
        "runs list": ["runs", "list"],
        "models show clf": ["models", "show", "clf"],
        "data status": ["data", "status"],
        "env capture --python VENV --json": [
            "env",
            "capture",
            "--python",
            sys.executable,
            "--json",
        ],
    }
    modes = {
        "bytecode cache": python_env(True, DVC_NO_ANALYTICS="1"),
        "PYTHONDONTWRITEBYTECODE=1": no_write_env(DVC_NO_ANALYTICS="1"),
    }
    # (label, command, cwd, env): everything timed in one interleaved round.
    timed: list[tuple[str, list[str], Path, dict[str, str]]] = []
    for mode, environ in modes.items():
        timed.append((f"dvc status|{mode}", [dvc, "status"], dvc_repo, environ))
        timed.append((f"pip freeze|{mode}", pip_freeze, workspace, environ))
        for who, python in parities.items():
            for name, argv in commands.items():
                timed.append(
                    (f"{who}|{name}|{mode}", [python, "-m", "parity", *argv], workspace, environ)
                )
    for who, python in parities.items():
        timed.append(
            (
                f"{who}|status|nothing compiled",
                [python, "-m", "parity", "status"],
                workspace,
                nothing_compiled,
            )
        )

    parts = {part.strip() for part in args.parts.split(",")}
    samples: dict[str, list[float]] = {label: [] for label, *_ in timed}
    # the first round warms caches and is not counted
    for round_ in range(args.rounds + 1 if "commands" in parts else 0):
        for label, command, cwd, environ in timed:
            elapsed = seconds(command, cwd, environ)
            if round_:
                samples[label].append(elapsed)
    load = os.getloadavg()
    ms = {label: statistics.median(values) * 1000 for label, values in samples.items() if values}

    rates: dict[str, list[float]] = {"MLflow": [], **{who: [] for who in parities}}
    for _ in range(args.run_rounds if "runs" in parts else 0):
        mlflow_env = clean_env(MLFLOW_TRACKING_URI=f"sqlite:///{mlflow_repo / 'mlflow.db'}")
        line = run(
            [str(mlflow_python), "-c", MLFLOW_RUNS, str(CREATED_RUNS)], mlflow_repo, mlflow_env
        )
        rates["MLflow"].append(float(line.split()[-1]))
        for who, python in parities.items():
            line = run([python, "-c", PARITY_RUNS, str(CREATED_RUNS)], workspace)
            rates[who].append(float(line.split()[-1]))
    rate = {who: statistics.median(values) for who, values in rates.items() if values}

    if "commands" in parts:
        headers = ["command", "mode", "anchor", "anchor ms"]
        for who in parities:
            headers += [f"{who} ms", f"{who} / anchor"]
        rows = []
        for mode in modes:
            for name in commands:
                anchor = "pip freeze" if name.startswith("env capture") else "dvc status"
                base = ms[f"{anchor}|{mode}"]
                row: list[object] = [f"parity {name}", mode, anchor, f"{base:.0f}"]
                for who in parities:
                    ours = ms[f"{who}|{name}|{mode}"]
                    row += [f"{ours:.0f}", f"{ours / base:.2f}x"]
                rows.append(row)
        row = ["parity status", "PYTHONDONTWRITEBYTECODE=1, venv not compiled", "", ""]
        for who in parities:
            row += [f"{ms[f'{who}|status|nothing compiled']:.0f}", ""]
        rows.append(row)
        print(table(headers, rows))
        print(
            f"\nload average after the rounds: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
            f"({os.cpu_count()} cores); medians of {args.rounds} rounds"
        )
        print()
    if "runs" not in parts:
        return
    load = os.getloadavg()
    run_rows = [["MLflow (SQLite)", f"{rate['MLflow']:.1f}", "1.0x"]]
    run_rows += [
        [who, f"{rate[who]:.1f}", f"{rate[who] / rate['MLflow']:.1f}x"] for who in parities
    ]
    print(table(["runs created/s (with start_run(): pass)", "runs/s", "vs MLflow"], run_rows))
    print(
        f"median of {args.run_rounds} alternated rounds of {CREATED_RUNS} runs; load average "
        f"after them: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )


if __name__ == "__main__":
    main()
