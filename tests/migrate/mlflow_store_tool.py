"""Run by the MLflow tool venv's Python (never imported by Parity's tests): build an MLflow store
through MLflow's own client, or dump what MLflow's own client reads from one, as JSON.

    python mlflow_store_tool.py build URI          # fills the tracking (and registry) store
    python mlflow_store_tool.py dump URI OUT.json  # what MlflowClient says the store holds
    python mlflow_store_tool.py predict MODEL_URI ROWS.json OUT.json [URI]

Deterministic inputs (fixed seeds) so two stores built by it hold the same logical content.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import warnings

warnings.filterwarnings("ignore")

import mlflow  # noqa: E402
from mlflow import MlflowClient  # noqa: E402
from mlflow.entities import ViewType  # noqa: E402

MODEL = "churn"
ROWS = [[0.1, 1.2, -0.3, 2.0], [1.5, -0.2, 0.7, 0.1], [-1.0, 0.0, 0.5, 1.1]]


def build(uri: str) -> None:
    """Three experiments (one deleted), nested and deleted runs, metric histories with NaN and
    infinity, dataset inputs, artifacts, and a registered model with three versions (saved as
    pickle, skops and cloudpickle), two aliases, a stage, tags and descriptions."""
    import numpy as np
    import pandas as pd
    from sklearn.linear_model import LogisticRegression

    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient()
    first = client.create_experiment("first", tags={"team": "risk"})
    second = client.create_experiment("second")
    gone = client.create_experiment("gone")
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(rng.normal(size=(40, 4)), columns=["a", "b", "c", "d"])
    target = (frame["a"] + frame["b"] > 0).astype(int)
    run_ids = []
    for index in range(3):
        with mlflow.start_run(experiment_id=first, run_name=f"train-{index}") as run:
            mlflow.log_params({"c": str(0.5 + index), "solver": "lbfgs"})
            mlflow.set_tags({"mlflow.source.git.commit": "ab" * 20, "stage": f"s{index}"})
            for step in range(30):
                mlflow.log_metric("loss", 1.0 / (step + 1 + index), step=step)
                if step % 3 == 0:
                    mlflow.log_metric("acc", 0.5 + step / 100, step=step)
            mlflow.log_metric("odd", float("nan"), step=0)
            mlflow.log_metric("odd", float("inf"), step=1)
            dataset = mlflow.data.from_pandas(frame, source="s3://bucket/train.csv", name="train")
            mlflow.log_input(dataset, context="training")
            with tempfile.TemporaryDirectory() as tmp:
                os.makedirs(os.path.join(tmp, "plots", "deep"))
                with open(os.path.join(tmp, "notes.txt"), "w") as handle:
                    handle.write(f"run {index}\n")
                with open(os.path.join(tmp, "plots", "deep", "curve.bin"), "wb") as handle:
                    handle.write(bytes(range(256)) * (index + 1))
                mlflow.log_artifacts(tmp)
            model = LogisticRegression(C=0.5 + index).fit(frame, target)
            info = mlflow.sklearn.log_model(
                model,
                name="model",
                input_example=frame.head(3),
                registered_model_name=MODEL,
                serialization_format=("pickle", "skops", "cloudpickle")[index],
            )
            with mlflow.start_run(run_name=f"child-{index}", nested=True):
                mlflow.log_param("fold", str(index))
                mlflow.log_metric("fold_loss", 0.1 * index)
            run_ids.append((run.info.run_id, info))
    with mlflow.start_run(experiment_id=second, run_name="lonely") as run:
        mlflow.log_param("only", "one")
    deleted = client.create_run(second, run_name="removed")
    client.log_param(deleted.info.run_id, "x", "1")
    client.set_terminated(deleted.info.run_id, "KILLED")
    client.delete_run(deleted.info.run_id)
    with mlflow.start_run(experiment_id=gone, run_name="in-deleted"):
        mlflow.log_metric("m", 1.0)
    client.delete_experiment(gone)

    client.update_registered_model(MODEL, description="predicts churn")
    client.set_registered_model_tag(MODEL, "owner", "risk-team")
    client.update_model_version(MODEL, "2", description="second try")
    client.set_model_version_tag(MODEL, "2", "validated", "yes")
    client.set_registered_model_alias(MODEL, "champion", "2")
    client.set_registered_model_alias(MODEL, "challenger", "3")
    client.transition_model_version_stage(MODEL, "1", "Production")


def _history(client: MlflowClient, run_id: str, keys: list[str]) -> list[dict]:
    points = []
    for key in keys:
        for m in client.get_metric_history(run_id, key):
            points.append(
                {"key": m.key, "value": repr(m.value), "step": m.step, "timestamp": m.timestamp}
            )
    return sorted(points, key=lambda p: (p["key"], p["step"], p["timestamp"], p["value"]))


def _artifacts(client: MlflowClient, run_id: str, path: str | None = None) -> list[str]:
    found = []
    for item in client.list_artifacts(run_id, path):
        if item.is_dir:
            found += _artifacts(client, run_id, item.path)
        else:
            found.append(item.path)
    return found


def dump(uri: str, out: str) -> None:
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    client = MlflowClient()
    experiments = client.search_experiments(view_type=ViewType.ALL)
    document: dict = {"experiments": [], "runs": [], "models": [], "versions": []}
    for e in experiments:
        document["experiments"].append(
            {
                "id": e.experiment_id,
                "name": e.name,
                "lifecycle_stage": e.lifecycle_stage,
                "created_ms": e.creation_time,
                "tags": dict(e.tags),
            }
        )
    ids = [e.experiment_id for e in experiments]
    for r in client.search_runs(ids, run_view_type=ViewType.ALL, max_results=10000):
        data = r.data
        files = sorted(_artifacts(client, r.info.run_id))
        digests = {}
        with tempfile.TemporaryDirectory() as tmp:
            for path in files:
                local = client.download_artifacts(r.info.run_id, path, tmp)
                with open(local, "rb") as handle:
                    digests[path] = hashlib.sha256(handle.read()).hexdigest()
        inputs = []
        for d in r.inputs.dataset_inputs if r.inputs else ():
            inputs.append(
                {
                    "name": d.dataset.name,
                    "digest": d.dataset.digest,
                    "source_type": d.dataset.source_type,
                    "source": d.dataset.source,
                    "schema": d.dataset.schema or None,
                    "profile": d.dataset.profile or None,
                    "context": {t.key: t.value for t in d.tags}.get("mlflow.data.context"),
                }
            )
        document["runs"].append(
            {
                "id": r.info.run_id,
                "experiment_id": r.info.experiment_id,
                "name": r.info.run_name,
                "status": r.info.status,
                "start_ms": r.info.start_time,
                "end_ms": r.info.end_time,
                "user": r.info.user_id,
                "lifecycle_stage": r.info.lifecycle_stage,
                "params": dict(data.params),
                "tags": dict(data.tags),
                "inputs": inputs,
                "metrics": _history(client, r.info.run_id, sorted(data.metrics)),
                "artifacts": digests,
            }
        )
    for m in client.search_registered_models():
        document["models"].append(
            {
                "name": m.name,
                "description": m.description or None,
                "tags": dict(m.tags),
                "aliases": dict(m.aliases),
                "created_ms": m.creation_timestamp,
            }
        )
        for v in client.search_model_versions(f"name='{m.name}'"):
            files = {}
            with tempfile.TemporaryDirectory() as tmp:
                local = mlflow.artifacts.download_artifacts(
                    f"models:/{v.name}/{v.version}", dst_path=tmp
                )
                for folder, _, names in os.walk(local):
                    for name in names:
                        if name == "registered_model_meta":
                            continue  # written by the download itself, not stored in MLflow
                        path = os.path.join(folder, name)
                        with open(path, "rb") as handle:
                            relative = os.path.relpath(path, local).replace(os.sep, "/")
                            files[relative] = hashlib.sha256(handle.read()).hexdigest()
            document["versions"].append(
                {
                    "name": v.name,
                    "version": str(v.version),
                    "run_id": v.run_id,
                    "source": v.source,
                    "stage": v.current_stage,
                    "description": v.description or None,
                    "tags": dict(v.tags),
                    "created_ms": v.creation_timestamp,
                    "user": v.user_id or None,
                    "status": v.status,
                    "files": files,
                }
            )
    with open(out, "w") as handle:
        json.dump(document, handle, indent=1, sort_keys=True)


def predict(model_uri: str, rows_path: str, out: str, uri: str = "") -> None:
    """What mlflow.pyfunc predicts for the rows; ``uri`` defaults to ./mlruns (a file store)."""
    import pandas as pd

    uri = uri or "file://" + os.path.abspath("mlruns")
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)

    with open(rows_path) as handle:
        rows = json.load(handle)
    model = mlflow.pyfunc.load_model(model_uri)
    frame = pd.DataFrame(rows, columns=["a", "b", "c", "d"])
    with open(out, "w") as handle:
        json.dump([repr(float(p)) for p in model.predict(frame)], handle)


if __name__ == "__main__":
    command, *rest = sys.argv[1:]
    {"build": build, "dump": dump, "predict": predict}[command](*rest)
