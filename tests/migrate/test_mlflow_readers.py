"""The MLflow file store and REST readers yield exactly what MLflow's own client reads; the
registry import makes Parity versions that predict what MLflow's pyfunc predicts."""

from __future__ import annotations

import base64
import io
import json
import os
import pickle
import shutil
import threading
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any, BinaryIO, ClassVar, cast

import pytest

from parity.core.errors import AccessDenied, NotFoundError, StorageError, UsageError
from parity.migrate.mlflow.file_reader import FileStoreSource, store_root
from parity.migrate.mlflow.models_import import REASON, import_models
from parity.migrate.mlflow.rest_reader import RestSource, credentials_headers
from parity.migrate.mlflow.source import (
    MlflowArtifact,
    MlflowModelFiles,
    MlflowModelVersion,
    MlflowRegisteredModel,
    MlflowRun,
)
from tests.migrate.mlflow_fixtures import (
    assert_same,
    build_and_dump,
    read_all,
    run_tool,
    served,
)

ROWS = [[0.1, 1.2, -0.3, 2.0], [1.5, -0.2, 0.7, 0.1], [-1.0, 0.0, 0.5, 1.1], [0.0, 0.0, 0.0, 0.0]]


@pytest.fixture(scope="module")
def file_store(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    folder = tmp_path_factory.mktemp("mlflow-file")
    root = folder / "mlruns"
    return root, build_and_dump(root.as_uri(), folder)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, Any]]]:
    folder = tmp_path_factory.mktemp("mlflow-server")
    for running in served(folder):
        yield running.url, build_and_dump(running.url, folder)


# file store ------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(2400)  # builds real MLflow stores; MLflow starts slowly on a busy machine
def test_file_reader_reads_what_mlflow_reads(file_store: tuple[Path, dict[str, Any]]) -> None:
    root, mlflow = file_store
    source = FileStoreSource(root.as_uri())
    ours = read_all(source)
    source.close()
    assert_same(ours, mlflow)
    # The store holds what the test means to cover, so equality above is not vacuous.
    stages = {e["name"]: e["lifecycle_stage"] for e in ours["experiments"]}
    assert stages["gone"] == "deleted"
    assert stages["first"] == "active"
    assert any(r["lifecycle_stage"] == "deleted" for r in ours["runs"])
    assert sum(len(r["metrics"]) for r in ours["runs"]) > 100
    assert {"nan", "inf"} <= {p["value"] for r in ours["runs"] for p in r["metrics"]}
    assert any(r["inputs"] and r["inputs"][0]["context"] == "training" for r in ours["runs"])
    assert any("plots/deep/curve.bin" in r["artifacts"] for r in ours["runs"])
    assert any(r["tags"].get("mlflow.parentRunId") for r in ours["runs"])
    assert len(ours["versions"]) == 3
    assert all("MLmodel" in v["files"] for v in ours["versions"])


@pytest.mark.slow
@pytest.mark.timeout(2400)  # builds real MLflow stores; MLflow starts slowly on a busy machine
def test_file_reader_filters_runs_by_start_time(file_store: tuple[Path, dict[str, Any]]) -> None:
    root, mlflow = file_store
    source = FileStoreSource(str(root))  # a plain path works as well as a file URI
    ids = [e.id for e in source.experiments()]
    starts = sorted(r["start_ms"] for r in mlflow["runs"])
    middle = starts[len(starts) // 2]
    later = list(source.runs(ids, since_ms=middle))
    assert len(later) == sum(1 for s in starts if s >= middle) < len(starts)


@pytest.mark.slow
@pytest.mark.timeout(2400)  # builds real MLflow stores; MLflow starts slowly on a busy machine
def test_file_reader_refuses_paths_that_escape(
    file_store: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    root, _ = file_store
    copy = tmp_path / "mlruns"
    shutil.copytree(root, copy)
    source = FileStoreSource(str(copy))
    experiment = next(e for e in source.experiments() if e.name == "first")
    run = next(iter(source.runs([experiment.id])))
    with pytest.raises(UsageError, match="not a plain relative path"):
        source.open_artifact(run, "../meta.yaml")
    with pytest.raises(UsageError, match="not a plain relative path"):
        source.open_artifact(run, "/etc/passwd")
    # A copied store keeps the old absolute locations: the copy's own folders are read instead.
    assert run.artifact_uri is not None
    assert str(root) in run.artifact_uri
    assert {a.path for a in source.artifacts(run)} >= {"notes.txt", "plots/deep/curve.bin"}
    # A location outside the store, with nothing conventional in its place, is refused.
    outside = MlflowRun(**{**run.__dict__, "id": run.id, "artifact_uri": "file:///etc"})
    shutil.rmtree(copy / experiment.id / run.id / "artifacts")
    with pytest.raises(UsageError, match="points outside the MLflow store"):
        list(source.artifacts(outside))
    with pytest.raises(UsageError, match=r"contains '\.\.'"):
        list(source.artifacts(MlflowRun(**{**run.__dict__, "artifact_uri": "file:///x/../../etc"})))
    # A link planted inside the store that leads out of it is refused too.
    (copy / experiment.id / run.id / "artifacts").mkdir()
    (copy / experiment.id / run.id / "artifacts" / "secret").symlink_to("/etc/hostname")
    with pytest.raises(UsageError, match="points outside the MLflow store"):
        list(source.artifacts(run))


def test_file_reader_needs_a_store(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="no MLflow file store"):
        FileStoreSource(str(tmp_path / "missing"))
    with pytest.raises(UsageError, match="not an MLflow file store"):
        store_root("s3://bucket/mlruns")
    assert store_root("file:///srv/mlruns") == Path("/srv/mlruns")


def test_file_reader_bounds_what_it_reads(tmp_path: Path) -> None:
    root = tmp_path / "mlruns"
    (root / "0").mkdir(parents=True)
    (root / "0" / "meta.yaml").write_bytes(b"name: x\n" + b"#" * (5 * 1024 * 1024))
    with pytest.raises(StorageError, match="larger than"):
        FileStoreSource(str(root)).experiments()
    (root / "0" / "meta.yaml").write_text("!!python/object/apply:os.system ['true']\n")
    with pytest.raises(StorageError, match="cannot read"):
        FileStoreSource(str(root)).experiments()


# REST ------------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(2400)  # builds real MLflow stores; MLflow starts slowly on a busy machine
def test_rest_reader_reads_what_mlflow_reads(server: tuple[str, dict[str, Any]]) -> None:
    url, mlflow = server
    source = RestSource(url, environ={})
    ours = read_all(source)
    source.close()
    assert_same(ours, mlflow)
    assert len(ours["runs"]) >= 9
    assert len(ours["versions"]) == 3
    assert any(r["artifacts"] for r in ours["runs"])


def test_credentials_come_from_the_environment() -> None:
    assert credentials_headers({"MLFLOW_TRACKING_TOKEN": "t0k"}) == {"Authorization": "Bearer t0k"}
    pair = base64.b64encode(b"ann:pw").decode()
    basic = {"MLFLOW_TRACKING_USERNAME": "ann", "MLFLOW_TRACKING_PASSWORD": "pw"}
    assert credentials_headers(basic) == {"Authorization": f"Basic {pair}"}
    assert credentials_headers({}) == {}


class _TokenServer(BaseHTTPRequestHandler):
    """Answers experiments/search only with the right Bearer token; records what it was sent."""

    seen: ClassVar[list[str | None]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.seen.append(self.headers.get("authorization"))
        if self.headers.get("authorization") != "Bearer s3cret":
            self.send_response(401)
            self.end_headers()
            return
        body = json.dumps({"experiments": [{"experiment_id": "0", "name": "Default"}]}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def token_server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _TokenServer)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_rest_reader_sends_the_token_and_explains_a_401(token_server: str) -> None:
    _TokenServer.seen.clear()
    with closing(RestSource(token_server, environ={"MLFLOW_TRACKING_TOKEN": "s3cret"})) as good:
        assert [e.name for e in good.experiments()] == ["Default"]
    assert _TokenServer.seen == ["Bearer s3cret"]
    bad = RestSource(token_server, environ={"MLFLOW_TRACKING_TOKEN": "wrong"})
    with (
        closing(bad),
        pytest.raises(AccessDenied, match=r"refused the credentials \(401\)") as caught,
    ):
        bad.experiments()
    assert "MLFLOW_TRACKING_TOKEN" in (caught.value.hint or "")
    assert "wrong" not in str(caught.value)
    assert "s3cret" not in str(caught.value)
    with closing(RestSource(token_server, environ={})) as anonymous, pytest.raises(AccessDenied):
        anonymous.experiments()
    assert _TokenServer.seen[1:] == ["Bearer wrong", None]


def test_rest_reader_says_when_no_server_answers() -> None:
    from benchmarks._support import free_port

    source = RestSource(f"http://user:pw@127.0.0.1:{free_port()}", environ={})
    with closing(source), pytest.raises(StorageError, match="cannot connect") as caught:
        source.experiments()
    assert "is the server running" in (caught.value.hint or "")
    assert "pw" not in str(caught.value)
    with pytest.raises(UsageError, match="not an MLflow server address"):
        RestSource("ftp://host", environ={})


# registry import -------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.timeout(2400)  # builds real MLflow stores; MLflow starts slowly on a busy machine
def test_registered_models_import_and_predict_like_mlflow(
    file_store: tuple[Path, dict[str, Any]], workspace_dir: Path, tmp_path: Path
) -> None:
    from parity.api import environments, models, runs
    from parity.workspace import open_workspace

    root, mlflow = file_store
    source = FileStoreSource(root.as_uri())
    assert isinstance(source, MlflowModelFiles)
    workspace = open_workspace(workspace_dir, environ={})
    run_ids = {}
    for version in mlflow["versions"]:
        with runs.start(experiment="imported", workspace=workspace) as run:
            run_ids[version["run_id"]] = run.id
    counts = import_models(
        source,
        records=workspace.records,
        registry=workspace.registry,
        actor=workspace.actor(),
        run_ids=run_ids,
    )
    assert counts.to_dict() == {
        "models": 1,
        "versions_added": 3,
        "versions_present": 0,
        "aliases_added": 3,  # champion, challenger, and the Production stage
        "loadable": 3,
        "opaque": 0,
        "declared_environments": 3,
    }
    versions = {v.version: v for v in models.versions("churn", workspace=workspace)}
    theirs = {int(v["version"]): v for v in mlflow["versions"]}
    assert sorted(versions) == [1, 2, 3]
    for number, version in versions.items():
        assert version.run_id == run_ids[theirs[number]["run_id"]]
        assert version.description == theirs[number]["description"]
    assert models.get("churn@champion", workspace=workspace).version == 2
    assert models.get("churn@challenger", workspace=workspace).version == 3
    assert models.get("churn@production", workspace=workspace).version == 1
    trail = models.history("churn", workspace=workspace)
    assert trail
    assert all(event.reason == REASON for event in trail)

    rows = tmp_path / "rows.json"
    rows.write_text(json.dumps(ROWS))
    for number in versions:
        record = models.record(f"churn/{number}", workspace=workspace)
        assert record.flavor == "sklearn"
        assert record.environment_id is None
        declared = record.declared_environment
        assert declared is not None
        assert declared.fingerprinted is False
        assert declared.to_dict()["fingerprinted"] is False
        assert "requirements.txt" in declared.files
        assert declared.requirements["scikit-learn"]
        assert record.signature is not None
        assert record.signature.input_names == ("a", "b", "c", "d")
        facts = json.loads(_file_bytes(workspace, record, "mlflow_registry.json"))
        assert facts["tags"] == theirs[number]["tags"]
        assert facts["registered_model"]["tags"] == {"owner": "risk-team"}
        with pytest.warns(models.EnvironmentMismatchWarning, match="declared environment"):
            model = models.load(f"churn/{number}", workspace=workspace)
        out = tmp_path / f"pred-{number}.json"
        ours = [repr(float(p)) for p in model.predict(_frame(ROWS))]
        uri = root.as_uri()
        run_tool("predict", f"models:/churn/{number}", str(rows), str(out), uri, cwd=root.parent)
        assert ours == json.loads(out.read_text())
    # `parity env verify` and its API say the environment is declared only.
    with pytest.raises(NotFoundError, match="only a declared environment"):
        environments.get("churn/1", workspace=workspace)
    with pytest.raises(NotFoundError, match="never fingerprinted"):
        models.verify("churn/2", workspace=workspace)

    # MLflow wrote into its own store while predicting (registered_model_meta): still nothing new.
    again = import_models(
        source,
        records=workspace.records,
        registry=workspace.registry,
        actor=workspace.actor(),
        run_ids=run_ids,
    )
    assert again.versions_added == 0
    assert again.aliases_added == 0
    assert again.versions_present == 3
    assert len(models.history("churn", workspace=workspace)) == len(trail)
    workspace.close()


def _frame(rows: list[list[float]]) -> Any:
    import pandas as pd

    return pd.DataFrame(rows, columns=["a", "b", "c", "d"])


def _file_bytes(workspace: Any, record: Any, path: str) -> bytes:
    found = record.file(path)
    assert found is not None
    data: bytes = workspace.records.objects.get_bytes(found.digest)
    return data


class _InMemorySource:
    """A registry of one model whose version files are given in memory (no MLflow needed)."""

    description = "memory"

    def __init__(self, files: dict[str, bytes], stage: str | None = None) -> None:
        self.files = files
        self.stage = stage

    def registered_models(self) -> list[MlflowRegisteredModel]:
        return [MlflowRegisteredModel("odd", 1, 1, "odd one", {}, {})]

    def model_versions(self, name: str) -> list[MlflowModelVersion]:
        return [
            MlflowModelVersion(
                "odd", "4", 5, 5, "ann", None, "models:/m-1", "r1", "READY", self.stage, {}
            )
        ]

    def model_files(self, version: MlflowModelVersion) -> Iterator[MlflowArtifact]:
        for path, data in self.files.items():
            yield MlflowArtifact(path, len(data))

    def open_model_file(self, version: MlflowModelVersion, path: str) -> BinaryIO:
        return io.BytesIO(self.files[path])


def _mlmodel(flavors: dict[str, Any]) -> bytes:
    import yaml

    return yaml.safe_dump({"flavors": flavors}).encode()


@pytest.mark.parametrize(
    ("flavors", "extra", "reason"),
    [
        ({"python_function": {"loader_module": "mlflow.pytorch"}}, {}, "loads only its sklearn"),
        (
            {"sklearn": {"pickled_model": "model.pkl", "serialization_format": "pickle"}},
            {"model.pkl": pickle.dumps(os.getcwd)},
            "restricted pickle may not call",
        ),
        (
            {"sklearn": {"pickled_model": "../x.pkl", "serialization_format": "pickle"}},
            {},
            "missing",
        ),
    ],
)
def test_models_parity_cannot_load_are_kept_opaque(
    workspace_dir: Path, flavors: dict[str, Any], extra: dict[str, bytes], reason: str
) -> None:
    from parity.api import models
    from parity.workspace import open_workspace

    workspace = open_workspace(workspace_dir, environ={})
    files = {"MLmodel": _mlmodel(flavors), "requirements.txt": b"torch==2.5.1\nnumpy>=1\n", **extra}
    counts = import_models(
        cast(Any, _InMemorySource(files, stage="Staging")),
        records=workspace.records,
        registry=workspace.registry,
        actor=workspace.actor(),
        run_ids={"r1": "not-checked"},
    )
    assert (counts.opaque, counts.loadable, counts.versions_added) == (1, 0, 1)
    record = models.record("odd/4", workspace=workspace)
    assert record.flavor == "mlflow"
    assert record.declared_environment is not None
    assert dict(record.declared_environment.requirements) == {"torch": "2.5.1"}
    assert models.get("odd@staging", workspace=workspace).version == 4
    with (
        pytest.warns(models.EnvironmentMismatchWarning),
        pytest.raises(UsageError, match=f"imported from MLflow.*{reason}"),
    ):
        models.load("odd/4", workspace=workspace)
    workspace.close()


def test_a_version_without_mlmodel_or_with_escaping_files_is_refused(workspace_dir: Path) -> None:
    from parity.workspace import open_workspace

    workspace = open_workspace(workspace_dir, environ={})
    options: dict[str, Any] = {
        "records": workspace.records,
        "registry": workspace.registry,
        "actor": workspace.actor(),
        "run_ids": {},
    }
    with pytest.raises(NotFoundError, match="no MLmodel file"):
        import_models(cast(Any, _InMemorySource({"model.pkl": b"x"})), **options)
    with pytest.raises(UsageError, match="not a plain relative path"):
        import_models(cast(Any, _InMemorySource({"../MLmodel": b"x"})), **options)
    with pytest.raises(UsageError, match="cannot read model version files"):
        import_models(cast(Any, SimpleNamespace(description="sql")), **options)
    workspace.close()


@pytest.mark.slow
@pytest.mark.timeout(2400)  # builds real MLflow stores; MLflow starts slowly on a busy machine
def test_rest_reader_follows_every_page(
    server: tuple[str, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from parity.migrate.mlflow import rest_reader

    url, mlflow = server
    monkeypatch.setattr(rest_reader, "PAGE", 2)
    monkeypatch.setattr(rest_reader, "HISTORY_PAGE", 7)
    source = RestSource(url, environ={})
    ids = [e.id for e in source.experiments()]
    assert len(ids) == len(mlflow["experiments"]) > 2
    runs = list(source.runs(ids))
    assert sorted(r.id for r in runs) == sorted(r["id"] for r in mlflow["runs"])
    longest = max(mlflow["runs"], key=lambda r: len(r["metrics"]))
    points = [
        {"key": p.key, "value": repr(p.value), "step": p.step, "timestamp": p.timestamp_ms}
        for p in source.metric_history(longest["id"])
    ]
    assert len(points) > 7
    assert (
        sorted(points, key=lambda p: (p["key"], p["step"], p["timestamp"], p["value"]))
        == (longest["metrics"])
    )
    source.close()
