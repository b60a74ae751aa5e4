"""Run with a tool venv's Python that has MLflow (never Parity's): make or dump an MLflow store.

    python mlflow_store.py generate TRACKING_URI FOLDER   log the test store's runs
    python mlflow_store.py dump TRACKING_URI OUT.json      what MLflow's own client reads back

``generate`` logs 3 experiments and 50 runs (nested runs, params, tags, a git commit tag,
dataset inputs, two metrics of 1,000 steps each, NaN and infinite points, files and a folder
as artifacts) and a scikit-learn model, with signature and input example, registered as 3
versions with 2 aliases and a stage. It stands alone: it imports nothing of Parity's.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
import warnings
from pathlib import Path

STEPS = 1000
EXPERIMENTS = ("churn", "fraud/v2", "vision")
RUNS = 50
MODEL = "churn-model"
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def generate(uri: str, folder: Path) -> None:
    import mlflow
    import numpy as np
    import pandas as pd
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    ids = []
    for index, name in enumerate(EXPERIMENTS):
        # One experiment keeps MLflow's default artifact location (./mlruns under the cwd);
        # the others a file:// URI of their own.
        location = None if index == 0 else (folder / f"artifacts-{index}").as_uri()
        ids.append(client.create_experiment(name, artifact_location=location))
    table = pd.DataFrame({"a": np.arange(20, dtype=float), "b": np.arange(20, dtype=float) * 2})
    dataset = mlflow.data.from_pandas(table, source="data/train.csv", name="train")
    made = 0
    while made < RUNS:
        experiment = ids[made % len(ids)]
        with mlflow.start_run(experiment_id=experiment, run_name=f"run-{made}") as parent:
            _log(client, parent.info.run_id, made, Metric)
            mlflow.log_input(dataset, context="training")
            made += 1
            if made % 5 == 0 and made < RUNS:  # every fifth run has a nested child
                with mlflow.start_run(
                    experiment_id=experiment, run_name=f"child-{made}", nested=True
                ) as child:
                    _log(client, child.info.run_id, made, Metric)
                    made += 1
    runs = client.search_runs(ids[1:2], max_results=3)
    client.set_terminated(runs[0].info.run_id, "FAILED")

    features = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]] * 5)
    labels = np.array([0, 1, 0, 1] * 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for version in range(3):
            with mlflow.start_run(experiment_id=ids[0], run_name=f"train-{version}"):
                model = LogisticRegression(C=1.0 + version).fit(features, labels)
                signature = mlflow.models.infer_signature(features, model.predict(features))
                mlflow.sklearn.log_model(
                    model,
                    name="model",
                    signature=signature,
                    input_example=features[:2],
                    registered_model_name=MODEL,
                    pip_requirements=["scikit-learn"],  # no inference: it takes ~40 s offline
                )
        client.set_registered_model_alias(MODEL, "champion", "3")
        client.set_registered_model_alias(MODEL, "challenger", "2")
        client.transition_model_version_stage(MODEL, "1", "Production")
        client.update_registered_model(MODEL, description="predicts churn")
        client.set_registered_model_tag(MODEL, "team", "growth")
        client.set_model_version_tag(MODEL, "2", "validated", "yes")


def _log(client: object, run_id: str, index: int, metric: type) -> None:
    import mlflow

    mlflow.log_params({"lr": 0.01 * (index + 1), "model": "rf" if index % 2 else "gbm"})
    mlflow.set_tags({"team": "growth", "index": str(index)})
    if index % 3 == 0:
        mlflow.set_tags(
            {
                "mlflow.source.git.commit": COMMIT,
                "mlflow.source.git.repoURL": "https://user:secret@example.com/acme/churn.git",
                "mlflow.source.git.branch": "main",
            }
        )
    now = int(time.time() * 1000)
    points = []
    for step in range(STEPS):
        loss = 1.0 / (step + 1 + index)
        points.append(metric("loss", loss, now + step, step))
        points.append(metric("acc", 1.0 - loss, now + step, step))
    if index == 1:  # values databases disagree on
        points += [
            metric("odd", math.nan, now, 0),
            metric("odd", math.inf, now, 1),
            metric("odd", -math.inf, now, 2),
            metric("odd", 2.5, now, 2),  # two points at one step
        ]
    for start in range(0, len(points), 1000):
        client.log_batch(run_id, metrics=points[start : start + 1000])  # type: ignore[attr-defined]
    here = Path(os.environ.get("MLFLOW_TEST_TMP", "."))
    report = here / f"report-{index}.txt"
    report.write_text(f"run {index}\n" * (index + 1))
    mlflow.log_artifact(str(report))
    shared = here / "shared.bin"  # the same bytes in every run: stored once
    shared.write_bytes(bytes(range(256)) * 64)
    mlflow.log_artifact(str(shared), artifact_path="common")
    if index % 4 == 0:
        plots = here / f"plots-{index}"
        (plots / "deep").mkdir(parents=True, exist_ok=True)
        (plots / "a.csv").write_text("x,y\n1,2\n")
        (plots / "deep" / "b.json").write_text(json.dumps({"index": index}))
        mlflow.log_artifacts(str(plots), artifact_path="plots")


def dump(uri: str, out: Path) -> None:
    import mlflow
    from mlflow.tracking import MlflowClient

    mlflow.set_tracking_uri(uri)  # download_artifacts asks the global store
    client = MlflowClient(uri)
    experiments = client.search_experiments()
    document: dict[str, object] = {
        "experiments": [{"id": e.experiment_id, "name": e.name} for e in experiments]
    }
    runs = []
    for experiment in experiments:
        for run in client.search_runs([experiment.experiment_id], max_results=10_000):
            info = run.info
            histories = {
                key: [
                    [m.step, m.timestamp, None if math.isnan(m.value) else m.value]
                    for m in client.get_metric_history(info.run_id, key)
                ]
                for key in run.data.metrics
            }
            runs.append(
                {
                    "id": info.run_id,
                    "experiment_id": info.experiment_id,
                    "name": info.run_name,
                    "status": info.status,
                    "start_ms": info.start_time,
                    "end_ms": info.end_time,
                    "user": info.user_id,
                    "params": run.data.params,
                    "tags": run.data.tags,
                    "datasets": [
                        {"name": d.dataset.name, "digest": d.dataset.digest}
                        for d in run.inputs.dataset_inputs
                    ],
                    "metrics": histories,
                    "artifacts": _artifacts(client, info.run_id, info.artifact_uri),
                }
            )
    document["runs"] = runs
    models = []
    for model in client.search_registered_models():
        versions = client.search_model_versions(f"name='{model.name}'")
        models.append(
            {
                "name": model.name,
                "description": model.description,
                "tags": model.tags,
                "aliases": dict(model.aliases),
                "versions": sorted(
                    (
                        {
                            "version": v.version,
                            "run_id": v.run_id,
                            "stage": v.current_stage,
                            "source": v.source,
                            "tags": v.tags,
                        }
                        for v in versions
                    ),
                    key=lambda v: int(v["version"]),
                ),
            }
        )
    document["models"] = models
    out.write_text(json.dumps(document, indent=1, sort_keys=True))


def _artifacts(client: object, run_id: str, root_uri: str) -> dict[str, list[object]]:
    """Every artifact file: its size and SHA-256, read from where MLflow says it keeps it."""
    from mlflow.artifacts import download_artifacts

    found: dict[str, list[object]] = {}
    pending = [""]
    while pending:
        folder = pending.pop()
        for item in client.list_artifacts(run_id, folder or None):  # type: ignore[attr-defined]
            if item.is_dir:
                pending.append(item.path)
                continue
            local = download_artifacts(run_id=run_id, artifact_path=item.path)
            data = Path(local).read_bytes()
            found[item.path] = [len(data), hashlib.sha256(data).hexdigest()]
    return found


if __name__ == "__main__":
    command, uri, path = sys.argv[1:4]
    if command == "generate":
        generate(uri, Path(path))
    else:
        dump(uri, Path(path))
