"""Environment restore: Parity's cold and warm restore next to MLflow building a model's env.

One small scikit-learn model is trained and saved with MLflow in the shared MLflow tool venv.
Parity restores the environment that model was trained in (the venv's fingerprint: exact files
by hash, no resolution, verified after); MLflow creates the environment it serves the model in
with ``mlflow models prepare-env --env-manager uv`` (the step ``mlflow models serve/predict``
run first), resolving the model's requirements.txt again. Cold: an empty uv cache (its own
UV_CACHE_DIR) and no Parity lock cache or MLflow env root; warm: a new environment with the
caches left by the cold run. Both tools use the same uv binary and the same index.

    python -m benchmarks env_restore
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from uv import find_uv_bin

from benchmarks._support import clean_env, table, tool_venv

PARITY = [sys.executable, "-m", "parity"]
ROUNDS = int(os.environ.get("PARITY_BENCH_ROUNDS", "2"))
SAVE = """
import sys
import mlflow.sklearn
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
frame = load_breast_cancer(as_frame=True).frame
features = frame.drop(columns="target")
model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
model.fit(features, frame["target"])
mlflow.sklearn.save_model(model, sys.argv[1], input_example=features.iloc[:5])
"""


def run(command: list[str], env: dict[str, str], cwd: Path) -> float:
    """Seconds ``command`` took; raises with its output when it fails."""
    started = time.perf_counter()
    result = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(
            f"{command[:4]} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
        )
    return time.perf_counter() - started


def packages_in(venv: Path) -> int:
    listing = subprocess.run(
        [
            find_uv_bin(),
            "pip",
            "list",
            "--format",
            "json",
            "--python",
            str(venv / "bin" / "python"),
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return len(json.loads(listing))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="parity-bench-restore-"))
    try:
        measure(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # several GiB of venvs and caches


def measure(work: Path) -> None:
    mlflow_python = tool_venv("mlflow", "mlflow==3.17.2", "scikit-learn==1.9.1")
    mlflow = str(mlflow_python.parent / "mlflow")
    model = work / "model"
    run([str(mlflow_python), "-c", SAVE, str(model)], clean_env(), work)
    fingerprint = work / "trained-env.json"
    run(
        [*PARITY, "env", "capture", "--python", str(mlflow_python), "-o", str(fingerprint)],
        clean_env(),
        work,
    )
    samples: dict[tuple[str, str], list[float]] = {}
    sizes: dict[str, int] = {}
    for round_ in range(ROUNDS):
        caches = work / f"caches-{round_}"
        uv_cache = caches / "uv"
        # Parity: no workspace here, so its lock cache is XDG_CACHE_HOME/parity (empty at first).
        parity_env = clean_env(UV_CACHE_DIR=str(uv_cache), XDG_CACHE_HOME=str(caches / "xdg"))
        mlflow_env = clean_env(UV_CACHE_DIR=str(caches / "uv-mlflow"))
        # MLflow runs uv (and itself) through PATH: the same uv binary Parity uses.
        uv_dir = Path(find_uv_bin()).parent
        mlflow_env["PATH"] = f"{mlflow_python.parent}:{uv_dir}:{mlflow_env.get('PATH', '')}"
        for phase in ("cold", "warm"):
            venv = caches / f"parity-{phase}"
            restore = [*PARITY, "env", "restore", str(fingerprint), "--venv", str(venv)]
            seconds = run(restore, parity_env, work)
            samples.setdefault(("parity", phase), []).append(seconds)
            sizes["parity"] = packages_in(venv)
            # A new MLflow env root each time: MLflow reuses an env it built for the same model.
            mlflow_env["MLFLOW_ENV_ROOT"] = str(caches / f"mlflow-envs-{phase}")
            prepare = [mlflow, "models", "prepare-env", "-m", str(model), "--env-manager", "uv"]
            seconds = run(prepare, mlflow_env, work)
            samples.setdefault(("mlflow", phase), []).append(seconds)
            envs = sorted((caches / f"mlflow-envs-{phase}").glob("*"))
            if envs:
                sizes["mlflow"] = packages_in(envs[0])

    def best(tool: str, phase: str) -> float:
        return min(samples[(tool, phase)])

    print(
        table(
            ["tool", "what", "packages", "cold s (empty caches)", "warm s (new env, caches kept)"],
            [
                (
                    "parity",
                    "env restore (exact files, then verify)",
                    sizes.get("parity", "?"),
                    f"{best('parity', 'cold'):.2f}",
                    f"{best('parity', 'warm'):.2f}",
                ),
                (
                    "mlflow",
                    "models prepare-env --env-manager uv",
                    sizes.get("mlflow", "?"),
                    f"{best('mlflow', 'cold'):.2f}",
                    f"{best('mlflow', 'warm'):.2f}",
                ),
            ],
        )
    )
    print(
        f"\nParity warm restore {best('parity', 'cold') / best('parity', 'warm'):.1f}x faster than"
        f" its cold restore; {best('mlflow', 'warm') / best('parity', 'warm'):.1f}x faster than"
        f" MLflow's warm env creation, {best('mlflow', 'cold') / best('parity', 'cold'):.1f}x cold"
        f" (best of {ROUNDS} rounds)"
    )
