"""Environment capture: Parity's fingerprint next to what users run today, on one venv.

One venv of >= 150 distributions under .bench/ (MLflow, scikit-learn and JupyterLab, plus pip so
that `pip freeze` is the venv's own). In one run, interleaved round by round, each tool is timed
in a fresh process:

- `pip freeze`, `pip inspect` (the venv's pip), `uv pip freeze --python` (names and versions
  only), the whole `parity env capture --python VENV/bin/python` process outside a workspace
  (and its --json / -o variants), and inside one, where it also stores the record;
- in-process, inside the venv: a bare `importlib.metadata` walk (name and version of every
  distribution, import included: the floor), Parity's probe (its import and the fingerprint
  without --deep), and MLflow's requirement inference for a small saved
  scikit-learn model (`mlflow.models.infer_pip_requirements`, mlflow already imported).

Every process runs twice over: with Python's bytecode cache (the steady state a user sees;
written under .bench/pycache so nothing lands in the venvs) and with nothing cached (every
import compiled from source, the standard library's included: the worst case, alike for all).

    python -m benchmarks env_capture [--rounds N]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from uv import find_uv_bin

from benchmarks._support import ROOT, clean_env, python_env, table, tool_venv

REQUIREMENTS = ("mlflow==3.17.2", "scikit-learn==1.9.1", "jupyterlab==4.6.6", "pip==26.3")
MINIMUM_DISTRIBUTIONS = 150
PROBE = ROOT / "src" / "parity" / "env" / "probe.py"

SAVE_MODEL = """
import sys
import mlflow.sklearn
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression
features, target = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=300).fit(features, target)
mlflow.sklearn.save_model(model, sys.argv[1])
"""
# Each script prints the seconds of its own timed section on its last line.
METADATA_WALK = """
import time
started = time.perf_counter()
import importlib.metadata
found = {(d.metadata["Name"], d.version) for d in importlib.metadata.distributions()}
elapsed = time.perf_counter() - started
print(len(found))
print(elapsed)
"""
# As `parity env capture --python` runs it: imported from its folder, which leaves sys.path first.
PARITY_IN_PROCESS = """
import sys, time
started = time.perf_counter()
sys.path.insert(0, sys.argv[1])
import probe
del sys.path[0]
document = probe.collect(False)
elapsed = time.perf_counter() - started
print(len(document["distributions"]))
print(elapsed)
"""
MLFLOW_INFERENCE = """
import sys, time, warnings
warnings.simplefilter("ignore")
import mlflow.models
started = time.perf_counter()
requirements = mlflow.models.infer_pip_requirements(sys.argv[1], "sklearn")
elapsed = time.perf_counter() - started
print(len(requirements))
print(elapsed)
"""


def count_distributions(python: Path) -> int:
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return sum(1 for entry in Path(site).iterdir() if entry.name.endswith(".dist-info"))


def process_timer(command: list[str], env: dict[str, str], cwd: Path) -> Callable[[], float]:
    """Wall-clock seconds of the whole process."""

    def run() -> float:
        started = time.perf_counter()
        subprocess.run(
            command, env=env, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        return time.perf_counter() - started

    return run


def inner_timer(command: list[str], env: dict[str, str], cwd: Path) -> Callable[[], float]:
    """The seconds a script reports for its own timed section."""

    def run() -> float:
        output = subprocess.run(
            command, env=env, cwd=cwd, check=True, capture_output=True, text=True
        ).stdout
        return float(output.strip().splitlines()[-1])

    return run


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks env_capture")
    parser.add_argument("--rounds", type=int, default=9, help="timed rounds (median reported)")
    parser.add_argument("--mlflow-rounds", type=int, default=5)
    args, _ = parser.parse_known_args(sys.argv[2:] if sys.argv[1:2] == ["env_capture"] else None)

    python = tool_venv("env-capture", *REQUIREMENTS)
    venv = python.parent.parent
    count = count_distributions(python)
    if count < MINIMUM_DISTRIBUTIONS:
        sys.exit(f"{venv} holds {count} distributions; the benchmark needs {MINIMUM_DISTRIBUTIONS}")
    work = Path(tempfile.mkdtemp(prefix="parity-bench-env-"))  # no workspace: nothing stored
    model = work / "model"
    save = [str(python), "-c", SAVE_MODEL, str(model)]
    subprocess.run(save, check=True, env=clean_env(), capture_output=True)
    workspace = work / "workspace"  # for the one row that stores the record
    workspace.mkdir()
    parity_init = [sys.executable, "-m", "parity", "init"]
    subprocess.run(parity_init, cwd=workspace, check=True, env=clean_env(), capture_output=True)
    pip = str(venv / "bin" / "pip")
    parity = str(Path(sys.executable).parent / "parity")
    uv = find_uv_bin()
    target = str(python)

    modes = {"bytecode cached": python_env(True), "nothing cached": python_env(False)}

    rows: list[tuple[str, str, Callable[[dict[str, str]], Callable[[], float]], int]] = [
        ("pip freeze", "process", lambda e: process_timer([pip, "freeze"], e, work), args.rounds),
        ("pip inspect", "process", lambda e: process_timer([pip, "inspect"], e, work), args.rounds),
        (
            "uv pip freeze --python",
            "process",
            lambda e: process_timer([uv, "pip", "freeze", "--python", target], e, work),
            args.rounds,
        ),
        (
            "MLflow infer_pip_requirements (sklearn model)",
            "in-process",
            lambda e: inner_timer([target, "-c", MLFLOW_INFERENCE, str(model)], e, work),
            args.mlflow_rounds,
        ),
        (
            "importlib.metadata walk (floor)",
            "in-process",
            lambda e: inner_timer([target, "-c", METADATA_WALK], e, work),
            args.rounds,
        ),
        (
            "Parity probe, no --deep",
            "in-process",
            lambda e: inner_timer([target, "-c", PARITY_IN_PROCESS, str(PROBE.parent)], e, work),
            args.rounds,
        ),
        (
            "parity env capture --python",
            "process",
            lambda e: process_timer([parity, "env", "capture", "--python", target], e, work),
            args.rounds,
        ),
        (
            "parity env capture --python --json",
            "process",
            lambda e: process_timer(
                [parity, "env", "capture", "--python", target, "--json"], e, work
            ),
            args.rounds,
        ),
        (
            "parity env capture --python -o FILE",
            "process",
            lambda e: process_timer(
                [parity, "env", "capture", "--python", target, "-o", str(work / "env.json")],
                e,
                work,
            ),
            args.rounds,
        ),
        (
            "parity env capture --python, in a workspace (stores it)",
            "process",
            lambda e: process_timer([parity, "env", "capture", "--python", target], e, workspace),
            args.rounds,
        ),
    ]
    samples: dict[tuple[str, str], list[float]] = {}
    timers = {(name, mode): make(env) for name, _, make, _ in rows for mode, env in modes.items()}
    for timer in timers.values():
        timer()  # warm-up: fills the bytecode cache and the page cache
    for round_number in range(max(r for *_, r in rows)):
        for name, _, _, rounds in rows:
            if round_number < rounds:
                for mode in modes:
                    samples.setdefault((name, mode), []).append(timers[(name, mode)]())

    def median(name: str, mode: str) -> float:
        return statistics.median(samples[(name, mode)])

    print(f"{count} distributions in {venv.relative_to(ROOT)}; medians of {args.rounds} rounds")
    print(
        table(
            ["tool", "timed", *(f"s, {mode}" for mode in modes)],
            [
                (name, kind, *(f"{median(name, mode):.3f}" for mode in modes))
                for name, kind, _, _ in rows
            ],
        )
    )
    print()
    ratio_rows = []
    for mode in modes:

        def of_freeze(name: str, mode: str = mode) -> str:
            return f"{median(name, mode) / median('pip freeze', mode):.2f}"

        ratio_rows.append(
            (
                mode,
                of_freeze("Parity probe, no --deep") + " (<= 0.20)",
                of_freeze("parity env capture --python") + " (<= 0.50)",
                of_freeze("parity env capture --python --json"),
                of_freeze("parity env capture --python -o FILE"),
                of_freeze("parity env capture --python, in a workspace (stores it)"),
            )
        )
    headers = ["of pip freeze's time", "in-process probe", "whole process", "--json", "-o FILE"]
    print(table([*headers, "in a workspace"], ratio_rows))


if __name__ == "__main__":
    main()
