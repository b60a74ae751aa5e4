"""Real MLflow stores for the reader tests: built and read back by MLflow itself in a tool venv.

MLflow is never in Parity's lock: it lives in benchmarks' tool venv (.bench/mlflow), and every
call to it is a subprocess running tests/migrate/mlflow_store_tool.py.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks._support import clean_env, free_port, wait_for

from tests.migrate.mlflow_tool import mlflow_python as shared_mlflow_python

# The same pin as the benchmarks (and the SQL reader's tests): MLflow 3.17.2.
TOOL = Path(__file__).with_name("mlflow_store_tool.py")
# MLflow 3.17 refuses a file store unless told: it is in maintenance mode, not removed.
FILE_STORE_ENV = {"MLFLOW_ALLOW_FILE_STORE": "true"}


def mlflow_python() -> Path:
    return shared_mlflow_python()


def run_tool(*args: str, cwd: Path, timeout: float = 900) -> None:
    result = subprocess.run(
        [str(mlflow_python()), str(TOOL), *args],
        cwd=cwd,
        env=clean_env(**FILE_STORE_ENV),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]


def build_and_dump(uri: str, cwd: Path) -> dict[str, Any]:
    run_tool("build", uri, cwd=cwd)
    out = cwd / "dump.json"
    run_tool("dump", uri, str(out), cwd=cwd)
    document: dict[str, Any] = json.loads(out.read_text())
    return document


class MlflowServer:
    """``mlflow server`` on loopback with a SQLite backend and proxied artifacts."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [
                str(mlflow_python().parent / "mlflow"),
                "server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
                "--backend-store-uri",
                f"sqlite:///{folder / 'mlflow.db'}",
                "--artifacts-destination",
                str(folder / "artifacts"),
                "--serve-artifacts",
            ],
            cwd=folder,
            env=clean_env(),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(f"{self.url}/health", timeout=1200)
        except TimeoutError:
            self.stop()
            raise

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)
        self.log.close()


def served(folder: Path) -> Iterator[MlflowServer]:
    server = MlflowServer(folder)
    try:
        yield server
    finally:
        server.stop()


def read_all(source: Any) -> dict[str, Any]:
    """What a Parity reader yields, in the shape of the tool's dump."""
    import hashlib

    experiments = source.experiments()
    document: dict[str, Any] = {"experiments": [], "runs": [], "models": [], "versions": []}
    for e in experiments:
        document["experiments"].append(
            {
                "id": e.id,
                "name": e.name,
                "lifecycle_stage": e.lifecycle_stage,
                "created_ms": e.created_ms,
                "tags": dict(e.tags),
            }
        )
    for run in source.runs([e.id for e in experiments]):
        digests = {}
        for artifact in source.artifacts(run):
            with source.open_artifact(run, artifact.path) as stream:
                data = stream.read()
            assert artifact.size in (None, len(data))
            digests[artifact.path] = hashlib.sha256(data).hexdigest()
        points = [
            {"key": p.key, "value": repr(p.value), "step": p.step, "timestamp": p.timestamp_ms}
            for p in source.metric_history(run.id)
        ]
        document["runs"].append(
            {
                "id": run.id,
                "experiment_id": run.experiment_id,
                "name": run.name,
                "status": run.status,
                "start_ms": run.start_ms,
                "end_ms": run.end_ms,
                "user": run.user,
                "lifecycle_stage": run.lifecycle_stage,
                "params": dict(run.params),
                "tags": dict(run.tags),
                "inputs": [
                    {
                        "name": i.name,
                        "digest": i.digest,
                        "source_type": i.source_type,
                        "source": i.source,
                        "schema": i.schema,
                        "profile": i.profile,
                        "context": i.context,
                    }
                    for i in run.inputs
                ],
                "metrics": sorted(
                    points, key=lambda p: (p["key"], p["step"], p["timestamp"], p["value"])
                ),
                "artifacts": digests,
            }
        )
    for model in source.registered_models():
        document["models"].append(
            {
                "name": model.name,
                "description": model.description,
                "tags": dict(model.tags),
                "aliases": dict(model.aliases),
                "created_ms": model.created_ms,
            }
        )
        for v in source.model_versions(model.name):
            files = {}
            for artifact in source.model_files(v):
                with source.open_model_file(v, artifact.path) as stream:
                    files[artifact.path] = hashlib.sha256(stream.read()).hexdigest()
            document["versions"].append(
                {
                    "name": v.name,
                    "version": v.version,
                    "run_id": v.run_id,
                    "source": v.source,
                    "stage": v.stage or "None",
                    "description": v.description,
                    "tags": dict(v.tags),
                    "created_ms": v.created_ms,
                    "user": v.user,
                    "status": v.status,
                    "files": files,
                }
            )
    return document


def by_id(items: list[dict[str, Any]], key: str = "id") -> dict[str, dict[str, Any]]:
    return {str(item[key]): item for item in items}


def assert_same(ours: dict[str, Any], mlflow: dict[str, Any]) -> None:
    """Every experiment, run (with full histories and artifact bytes) and version the same."""
    assert by_id(ours["experiments"]) == by_id(mlflow["experiments"])
    our_runs, their_runs = by_id(ours["runs"]), by_id(mlflow["runs"])
    assert sorted(our_runs) == sorted(their_runs)
    for run_id, theirs in their_runs.items():
        assert our_runs[run_id] == theirs, run_id
    assert by_id(ours["models"], "name") == by_id(mlflow["models"], "name")
    key = lambda v: f"{v['name']}/{v['version']}"  # noqa: E731
    assert {key(v): v for v in ours["versions"]} == {key(v): v for v in mlflow["versions"]}
