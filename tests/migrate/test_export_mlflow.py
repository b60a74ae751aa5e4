"""`parity export mlflow`: MLflow's own client reads the exported runs and model versions and finds
the same params, tags, metric histories, inputs, artifact bytes, versions and aliases, and the
exported model predicts what Parity's does. A second export adds nothing; a half-written run is
written again."""

from __future__ import annotations

import hashlib
import json
import math
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from benchmarks._support import free_port, wait_for

from parity.api import migrate, models, runs
from parity.core.errors import NotFoundError
from parity.migrate.mlflow_export.exporter import MlflowExport
from parity.migrate.mlflow_export.rest_writer import MlflowWriter
from parity.workspace import Workspace, open_workspace
from tests.conftest import run_parity
from tests.migrate.mlflow_tool import mlflow_python, run_script

# MLflow starts slowly (a uvicorn server and job consumers; its client imports for seconds).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]

READ_BACK = r"""
import hashlib, json, sys, mlflow
from mlflow.tracking import MlflowClient
uri, names = sys.argv[1], json.loads(sys.argv[2])
mlflow.set_tracking_uri(uri)
client = MlflowClient()
def files(run_id, path=None):
    for info in client.list_artifacts(run_id, path):
        if info.is_dir:
            yield from files(run_id, info.path)
        else:
            yield info.path
out = {"runs": {}, "models": {}}
for experiment in client.search_experiments():
    for run in client.search_runs([experiment.experiment_id]):
        data, info = run.data, run.info
        histories = {
            key: [[m.step, m.timestamp, m.value]
                  for m in client.get_metric_history(info.run_id, key)]
            for key in data.metrics
        }
        blobs = {}
        for path in files(info.run_id):
            local = client.download_artifacts(info.run_id, path)
            blobs[path] = hashlib.sha256(open(local, "rb").read()).hexdigest()
        out["runs"][data.tags["parity.run_id"]] = {
            "experiment": experiment.name, "name": info.run_name, "status": info.status,
            "start": info.start_time, "end": info.end_time, "user": info.user_id,
            "params": data.params, "tags": data.tags, "metrics": histories, "artifacts": blobs,
            "inputs": [json.loads(i.dataset.source) for i in run.inputs.dataset_inputs],
        }
for name in names:
    versions = client.search_model_versions(f"name='{name}'")
    model = client.get_registered_model(name)
    out["models"][name] = {
        "versions": {v.tags["parity.version"]: v.version for v in versions},
        "aliases": dict(model.aliases),
    }
if names:
    import pandas as pd
    rows = pd.read_json(sys.argv[3], orient="split")
    loaded = mlflow.pyfunc.load_model(f"models:/{names[0]}@production")
    out["predictions"] = [float(p) for p in loaded.predict(rows)]
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def mlflow_bin() -> Path:
    return mlflow_python().parent / "mlflow"


@pytest.fixture
def history(workspace_dir: Path, breast_cancer: tuple[Any, Any]) -> Iterator[Workspace]:
    """A parent run with a nested child; metric histories (one NaN), an input, files, and
    a model logged and registered twice as bc, aliased production and staging."""
    workspace = open_workspace(workspace_dir, environ={})
    model, features = breast_cancer
    (workspace_dir / "train.csv").write_text("a,b\n1,2\n")
    (workspace_dir / "report").mkdir()
    (workspace_dir / "report" / "summary.txt").write_text("recall went up\n")
    (workspace_dir / "report" / "nested").mkdir()
    (workspace_dir / "report" / "nested" / "raw.bin").write_bytes(bytes(range(256)) * 40)
    with runs.start("churn", name="sweep", params={"folds": 5}, workspace=workspace) as parent:
        parent.set_tag("team", "risk")
        for step in range(1000):
            parent.log_metric("loss", 1.0 / (step + 1), step=step)
        parent.log_metric("odd", math.nan, step=0)
        for version in range(2):
            with runs.start(
                "churn", name=f"fit-{version}", params={"C": version + 1, "solver": "lbfgs"},
                parent=parent.id, workspace=workspace,
            ) as child:  # fmt: skip
                child.use_data(workspace_dir / "train.csv")
                child.log_metric("accuracy", 0.9 + version / 100, step=0)
                child.log_artifact(workspace_dir / "report")
                child.log_model(model, "model", input_example=features.head(5),
                                registered_model_name="bc")  # fmt: skip
    models.alias("bc", 2, "production", reason="better", workspace=workspace)
    models.alias("bc", 1, "staging", reason="keep", workspace=workspace)
    yield workspace
    workspace.close()


def _read_back(mlflow_bin: Path, uri: str, names: list[str], rows: Path | None) -> Any:
    args = [uri, json.dumps(names)] + ([str(rows)] if rows else [])
    return run_script(mlflow_bin.parent / "python", READ_BACK, *args)


def _same_history(ours: list[Any], theirs: list[list[Any]]) -> bool:
    def point(value: float | None) -> Any:
        return "nan" if value is None or math.isnan(value) else value

    return [(p.step, p.timestamp_ms, point(p.value)) for p in ours] == [
        (s, t, point(v)) for s, t, v in theirs
    ]


def _check_read_back(workspace: Workspace, read: Any, exported: dict[str, str]) -> None:
    assert set(read["runs"]) == set(exported)
    for run_id, theirs in read["runs"].items():
        view = runs.get(run_id, workspace=workspace)
        assert theirs["experiment"] == view.experiment
        assert theirs["name"] == view.name
        assert theirs["status"] == str(view.status).upper()
        assert (theirs["start"], theirs["end"], theirs["user"]) == (
            view.start_ms, view.end_ms, view.user,
        )  # fmt: skip
        assert theirs["params"] == dict(view.params)
        assert {k: v for k, v in theirs["tags"].items() if k in view.tags} == dict(view.tags)
        assert theirs["tags"].get("mlflow.source.git.commit") == (view.code or {}).get("commit")
        assert set(theirs["metrics"]) == set(view.metrics)
        for key, points in theirs["metrics"].items():
            assert _same_history(runs.history(run_id, key, workspace=workspace), points), key
        inputs = [{"path": i.path, "data_version": i.data_version} for i in view.inputs]
        assert theirs["inputs"] == inputs
        if view.parent_id:
            assert theirs["tags"]["mlflow.parentRunId"] == exported[view.parent_id]
        files = {a.path: a for a in view.artifacts if a.kind != "model"}
        for path, artifact in files.items():
            assert theirs["artifacts"][path] == _sha256(workspace, artifact.digest)
        for artifact in view.artifacts:
            if artifact.kind == "model":
                record = models.record(f"{run_id}:{artifact.path}", workspace=workspace)
                for file in record.files:
                    got = theirs["artifacts"][f"{artifact.path}/{file.path}"]
                    assert got == _sha256(workspace, file.digest)
                assert f"{artifact.path}/MLmodel" in theirs["artifacts"]


def _sha256(workspace: Workspace, digest: str) -> str:
    return hashlib.sha256(workspace.objects.get_bytes(digest)).hexdigest()


def test_mlflow_reads_back_an_export_into_its_sqlite_store(
    history: Workspace, workspace_dir: Path, mlflow_bin: Path, tmp_path: Path,
    breast_cancer: tuple[Any, Any],
) -> None:  # fmt: skip
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    done = run_parity(
        "export", "mlflow", "--model", "bc", "--to", uri, "--mlflow", str(mlflow_bin), "--json",
        cwd=workspace_dir, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["failed"] == []
    counts = result["counts"]
    assert (counts["runs"], counts["model_versions"], counts["aliases"]) == (3, 2, 2)
    assert counts["metric_points"] == 1000 + 1 + 2
    _, features = breast_cancer
    rows = tmp_path / "rows.json"
    features.head(20).to_json(rows, orient="split")
    read = _read_back(mlflow_bin, uri, ["bc"], rows)
    _check_read_back(history, read, result["runs"])
    theirs = read["models"]["bc"]
    versions = {
        f"bc/{ours}": str(mlflow_version) for ours, mlflow_version in theirs["versions"].items()
    }
    assert versions == result["versions"]
    assert {alias: str(v) for alias, v in theirs["aliases"].items()} == {
        "production": result["versions"]["bc/2"], "staging": result["versions"]["bc/1"],
    }  # fmt: skip
    ours = models.load("bc@production", workspace=history).predict(features.head(20))
    assert read["predictions"] == [float(p) for p in ours]

    again = run_parity(
        "export", "mlflow", "--model", "bc", "--to", uri, "--mlflow", str(mlflow_bin), "--json",
        cwd=workspace_dir, timeout=900,
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    second = json.loads(again.stdout)["counts"]
    assert (second["runs"], second["runs_already_there"]) == (0, 3)
    assert (second["model_versions"], second["model_versions_already_there"]) == (0, 2)
    assert len(_read_back(mlflow_bin, uri, [], None)["runs"]) == 3


@pytest.fixture
def mlflow_server(mlflow_bin: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(mlflow_bin), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "served-artifacts")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/health")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_an_export_to_a_server_goes_through_its_artifact_proxy_and_redoes_a_half_run(
    history: Workspace, mlflow_server: str, mlflow_bin: Path
) -> None:
    parent = next(r for r in runs.list(workspace=history) if r.name == "sweep")
    # A run an earlier export created but did not finish: it is deleted and written again.
    with closing(MlflowWriter(mlflow_server)) as writer:
        half = writer.create_run(
            writer.experiment_id("churn"), name="sweep", start_ms=1, user="x",
            tags={"parity.run_id": parent.id},
        )  # fmt: skip
    result = migrate.export_mlflow([parent.id[:10]], to=mlflow_server, workspace=history)
    assert result.ok, result.failed
    assert result.counts.runs == 1
    assert result.runs[parent.id] != half.run_id
    read = _read_back(mlflow_bin, mlflow_server, [], None)
    assert set(read["runs"]) == {parent.id}  # the half run is gone: one run per Parity run
    _check_read_back(history, read, result.runs)


def test_a_local_store_without_mlflow_says_what_to_install(
    history: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NotFoundError, match="no mlflow is on PATH") as caught:
        migrate.export_mlflow([], models=["bc"], to="sqlite:///x.db", workspace=history)
    assert "pip install mlflow" in str(caught.value)
    with pytest.raises(NotFoundError):
        migrate.export_mlflow([], models=["nope"], to="http://127.0.0.1:9", workspace=history)


def test_credentials_in_the_target_are_sent_never_shown(history: Workspace) -> None:
    parent = next(r for r in runs.list(workspace=history) if r.name == "sweep")
    result = migrate.export_mlflow(
        [parent.id], to="https://alice:s3cretPW@127.0.0.1:1", workspace=history
    )
    assert not result.ok  # nothing listens there
    assert "s3cretPW" not in str(result.to_dict())
    assert "alice" not in str(result.to_dict())


def test_the_export_s_own_tags_and_mlflow_s_limits_are_kept(
    workspace_dir: Path, mlflow_server: str
) -> None:
    """A run carrying tags named like the export's own is exported once, not again each time;
    a run stopped before it ended is finished by the next export; a param longer than MLflow
    keeps is refused, not cut; an alias MLflow refuses does not stop the rest of the model."""
    workspace = open_workspace(workspace_dir, environ={})
    with runs.start("e", name="tagged", workspace=workspace) as tagged:
        tagged.set_tag("parity.run_id", "from-an-earlier-life")
        tagged.set_tag("parity.export", "complete")
    with runs.start("e", name="long", workspace=workspace) as long:
        long.log_param("prompt", "x" * 7000)
    with runs.start("e", name="stopped", workspace=workspace) as stopped:
        stopped.log_metric("m", 1.0)

    class Interrupted(MlflowWriter):
        def end_run(self, *_args: object) -> None:
            raise KeyboardInterrupt

    # Every client is closed here: an open one's sockets would be reported, by garbage
    # collection, as a ResourceWarning inside whichever test runs next on this worker.
    with closing(Interrupted(mlflow_server)) as interrupted, pytest.raises(KeyboardInterrupt):
        MlflowExport(
            workspace.runs, workspace.registry, workspace.records, interrupted, target="-"
        ).export([stopped.id], [])
    for _ in range(2):
        result = migrate.export_mlflow(
            [tagged.id, long.id, stopped.id], to=mlflow_server, workspace=workspace
        )
        assert [what for what, _ in result.failed] == [f"run {long.id}"]
        assert "longer than the 6,000 characters MLflow keeps" in result.failed[0][1]
    with closing(MlflowWriter(mlflow_server)) as writer:
        experiment = writer.experiment_id("e")
        assert len(writer.find_runs(experiment, "parity.run_id", tagged.id)) == 1
        found = writer.find_runs(experiment, "parity.run_id", stopped.id)
    active = [r for r in found if not r.deleted]
    assert [r.status for r in active] == ["FINISHED"]
    workspace.close()
