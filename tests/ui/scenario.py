"""A workspace worth looking at, for the UI's tests, screenshots and benchmark: an experiment
of runs (one with a 100,000-step loss holding a one-step spike), a model with versions and an
alias, and two environments that differ in scikit-learn's minor version."""

from __future__ import annotations

import dataclasses
import math
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from parity.api import data, environments, models
from parity.api import runs as runs_api
from parity.core.environment import Environment
from parity.core.run import Artifact, DataLink, Metric, RunStatus
from parity.env.records import store_environment
from parity.workspace import Workspace, init_workspace

SPIKE_STEP = 73_214
SPIKE_VALUE = 50.0
STEPS = 100_000
START_MS = 1_760_000_000_000
# A file artifact of the baseline run, in a folder, compressible (stored zstd-framed).
REPORT_PATH = "reports/summary.txt"
REPORT = b"".join(b"epoch %d: loss fell\n" % i for i in range(400))
SCHEMA = """\
import pandera.pandas as pa

schema = pa.DataFrameSchema({"y": pa.Column(int, pa.Check.isin([0, 1]))})
"""


@dataclass(frozen=True)
class Scenario:
    folder: Path
    baseline: str  # the run with the long loss and the spike; its model is churn/1 and /2
    tuned: str  # same params but the learning rate; its environment has another scikit-learn
    others: tuple[str, ...]  # sweep-0 read baseline's data version, sweep-1 wrote tuned's
    env_a: str
    env_b: str


def loss_at(step: int, offset: float = 0.0) -> float:
    if step == SPIKE_STEP:
        return SPIKE_VALUE
    return 2.0 * math.exp(-step / 20_000) + 0.05 + offset + 0.01 * math.sin(step / 50)


def _series(key: str, steps: int, value: object, start_ms: int) -> list[Metric]:
    function = value if callable(value) else (lambda _s: float(value))  # type: ignore[arg-type]
    return [Metric(key, function(s), s, start_ms + s * 10) for s in range(steps)]


def _other_sklearn(environment: Environment) -> Environment:
    """``environment`` with scikit-learn one minor version on (added when it lacks one)."""
    found = environment.distribution("scikit-learn")
    assert found is not None, "the test environment has scikit-learn (the dev extra)"
    major, minor, *_ = found.version.split(".")
    bumped = dataclasses.replace(found, version=f"{major}.{int(minor) + 1}.0")
    rest = tuple(d for d in environment.distributions if d.name != "scikit-learn")
    return dataclasses.replace(environment, distributions=(*rest, bumped))


def _run(
    ws: Workspace,
    name: str,
    params: dict[str, object],
    metrics: dict[str, object],
    steps: int,
    index: int,
    environment_id: str,
) -> str:
    store = ws.runs
    run_id = store.create(
        experiment="churn", name=name, user="ada", host="lab", command=["python", "train.py"],
        environment_id=environment_id,
    )  # fmt: skip
    store.log_params(run_id, params)
    start = START_MS + index * 3_600_000
    for key, value in metrics.items():
        points = _series(key, steps, value, start)
        for first in range(0, len(points), 20_000):
            store.log_metrics(run_id, points[first : first + 20_000])
    store.set_tags(run_id, {"stage": "dev"})
    store.end(run_id, RunStatus.FINISHED, 0)
    return run_id


def build(folder: Path, *, steps: int = STEPS, metrics: int = 2, extra_runs: int = 3) -> Scenario:
    """Make the workspace in ``folder``; ``metrics`` series per long run (loss, acc, m2...)."""
    ws, _ = init_workspace(folder, environ={"PARITY_WORKSPACE": str(folder)})
    try:
        captured = environments.capture()
        env_a = store_environment(ws.records, captured, START_MS)
        env_b = store_environment(ws.records, _other_sklearn(captured), START_MS)
        long_metrics: dict[str, object] = {"loss": loss_at, "acc": 0.9}
        for extra in range(2, metrics):
            long_metrics[f"m{extra}"] = lambda s, e=extra: math.cos(s / 1000 + e)
        params = {"model": "rf", "n_estimators": 200, "max_depth": 8, "lr": 0.1}
        baseline = _run(ws, "baseline", params, long_metrics, steps, 0, env_a)
        tuned_metrics = {"loss": lambda s: loss_at(s, -0.01), "acc": 0.93}
        tuned = _run(ws, "tuned", {**params, "lr": 0.01}, tuned_metrics, 2_000, 1, env_b)
        others = tuple(
            _run(
                ws,
                f"sweep-{i}",
                {**params, "max_depth": 4 + i},
                {"loss": 0.3 + i / 10, "acc": 0.8 + i / 100},
                50,
                2 + i,
                env_a,
            )
            for i in range(extra_runs)
        )
        _register(ws, baseline)
        ws.runs.add_artifact(
            baseline, Artifact(REPORT_PATH, "file", ws.objects.put_bytes(REPORT), len(REPORT))
        )
        first, second = _versioned_table(ws, folder)
        ws.runs.add_data(baseline, "input", [DataLink("train.csv", first)])
        ws.runs.add_data(tuned, "input", [DataLink("train.csv", second)])
        if len(others) >= 2:  # one sweep read the baseline's data too, another wrote the newer
            ws.runs.add_data(others[0], "input", [DataLink("train.csv", first)])
            ws.runs.add_data(others[1], "output", [DataLink("train.csv", second)])
    finally:
        ws.close()
    return Scenario(folder, baseline, tuned, others, env_a, env_b)


def _versioned_table(ws: Workspace, folder: Path) -> tuple[str, str]:
    """``train.csv`` versioned twice in git (100 rows, then 101 with a label out of range,
    which fails its validation): the two data versions, oldest first."""
    git(folder, "init", "-q")
    table = folder / "train.csv"
    table.write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(100)))
    first = data.add(table, workspace=ws).data_version
    git(folder, "add", "train.csv.parity", ".gitignore")
    git(folder, "commit", "-q", "-m", "first table")
    table.write_text(table.read_text() + "100,2\n")
    second = data.add(table, workspace=ws).data_version
    schema = folder / "schema.py"
    schema.write_text(SCHEMA)
    data.validate(table, schema, workspace=ws)
    git(folder, "commit", "-q", "-am", "one more row")
    return first, second


def git(cwd: Path, *args: str) -> str:
    names = {f"GIT_{who}_{what}": value for who in ("AUTHOR", "COMMITTER")
             for what, value in (("NAME", "ada"), ("EMAIL", "ada@example.com"))}  # fmt: skip
    return subprocess.run(
        ["git", *args], cwd=cwd, env={**os.environ, **names}, check=True, capture_output=True,
        text=True,
    ).stdout.strip()  # fmt: skip


def _register(ws: Workspace, run_id: str) -> None:
    """Two versions of model "churn" from ``run_id``'s logged model; production → version 1."""
    from sklearn.linear_model import LogisticRegression  # lazy: only model scenarios

    model = LogisticRegression().fit([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5], [0.9, 0.1]], [0, 1, 0, 1])
    model_id, _ = models.save(model, input_example=[[0.1, 0.2]], workspace=ws)
    ws.runs.add_artifact(run_id, _model_artifact(model_id))
    models.register(f"{run_id}:model", "churn", workspace=ws)
    models.register(f"{run_id}:model", "churn", workspace=ws)
    models.alias("churn", 1, "production", reason="first", workspace=ws)
    runs_api.get(run_id, workspace=ws)


def _model_artifact(model_id: str) -> Artifact:
    return Artifact("model", "model", model_id)
