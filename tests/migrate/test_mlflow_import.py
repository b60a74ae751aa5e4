"""`parity import mlflow` from a real MLflow SQLite store: every count, every metric history
and every artifact's bytes equal what MLflow's own client reads; reruns add nothing; an
interrupted import resumes; --verify and --dry-run do what they say."""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import pytest
import sqlalchemy as sa

from parity.api import migrate
from parity.core.errors import NotFoundError, UsageError
from parity.core.run import RunStatus, RunView
from parity.migrate.mlflow import naming
from parity.migrate.mlflow.importer import (
    ImportTarget,
    import_mlflow_source,
)
from parity.migrate.mlflow.readers import open_mlflow_source
from parity.migrate.mlflow.source import (
    MlflowArtifact,
    MlflowExperiment,
    MlflowMetricPoint,
    MlflowModelVersion,
    MlflowRegisteredModel,
    MlflowRun,
    MlflowSource,
)
from parity.migrate.mlflow.sql_reader import SqlMlflowSource
from parity.store.meta import tracking_tables
from parity.tracking.store import RunStore
from parity.workspace import Workspace, now_ms, open_workspace
from tests.conftest import run_parity
from tests.migrate.conftest import MlflowStore

# Making the MLflow store (in the first test that needs it) takes minutes on a busy machine.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture
def ws(workspace_dir: Path) -> Iterator[Workspace]:
    workspace = open_workspace(workspace_dir)
    try:
        yield workspace
    finally:
        workspace.close()


def imported_runs(ws: Workspace) -> dict[str, RunView]:
    """Parity's runs by the MLflow run id they came from."""
    views = ws.runs.search(limit=None) + ws.runs.search(limit=None, deleted=True)
    found = {v.tags[naming.RUN_ID_TAG]: v for v in views if naming.RUN_ID_TAG in v.tags}
    assert len(found) == len(views), "every run is an imported one, each once"
    return found


def points(store: MlflowStore) -> int:
    return sum(len(h) for r in store.dump["runs"] for h in r["metrics"].values())


def assert_matches(ws: Workspace, store: MlflowStore) -> None:
    """Every run, param, tag, metric point and artifact byte as MLflow's client read them."""
    runs = imported_runs(ws)
    dumped = store.dump["runs"]
    assert sorted(runs) == sorted(r["id"] for r in dumped)
    experiments = {e["id"]: e["name"] for e in store.dump["experiments"]}
    for source in dumped:
        view = runs[source["id"]]
        assert view.name == source["name"]
        assert view.status is RunStatus(source["status"].lower())
        assert (view.start_ms, view.end_ms) == (source["start_ms"], source["end_ms"])
        assert view.user == source["user"]
        assert view.experiment == experiments[source["experiment_id"]].replace("/", "-")
        assert dict(view.params) == source["params"]
        own = {k: v for k, v in view.tags.items() if not k.startswith(("mlflow.dataset.",))}
        own = {k: v for k, v in own.items() if k not in naming.IMPORT_TAGS}
        assert own == source["tags"]
        datasets = {k for k in view.tags if k.startswith("mlflow.dataset.")}
        assert datasets == {f"mlflow.dataset.{d['name']}.{d['digest']}" for d in source["datasets"]}
        parent = source["tags"].get("mlflow.parentRunId")
        assert view.parent_id == (runs[parent].id if parent else None)
        if "mlflow.source.git.commit" in source["tags"]:
            assert view.code is not None
            assert view.code["commit"] == source["tags"]["mlflow.source.git.commit"]
            # MLflow also tags the runs it trains with the remote of the checkout the tests run
            # in, so only the credentials of the planted one are known to go.
            repo = source["tags"].get("mlflow.source.git.repoURL")
            assert view.code["repo_url"] == (repo and repo.replace("user:secret@", ""))
            assert "secret" not in (view.code["repo_url"] or "")
            assert view.code["branch"] == source["tags"].get("mlflow.source.git.branch")
            assert view.code["dirty"] is False
            assert view.code["diff_digest"] is None
        for key, history in source["metrics"].items():
            ours = [[m.step, m.timestamp_ms, m.value] for m in ws.runs.metric_history(view.id, key)]
            assert sorted(ours, key=_order) == sorted(history, key=_order), (source["id"], key)
        logged = sum(len(h) for h in source["metrics"].values())
        assert ws.runs.count_metric_points(view.id) == logged
        stored = {a.path: a for a in view.artifacts}
        assert set(stored) == set(source["artifacts"])
        for path, (size, sha) in source["artifacts"].items():
            data = ws.objects.get_bytes(stored[path].digest)
            assert (len(data), hashlib.sha256(data).hexdigest()) == (size, sha), path


def _order(point: list[Any]) -> tuple[int, int, float]:
    step, stamp, value = point
    return step, stamp, -math.inf if value is None else value


def test_import_brings_every_run_point_and_artifact_byte(
    ws: Workspace, sqlite_store: MlflowStore
) -> None:
    result = migrate.import_mlflow(sqlite_store.uri, workspace=ws)
    counts = result.counts
    dumped = sqlite_store.dump["runs"]
    assert counts.runs == len(dumped) == 53  # 50 + the 3 runs that logged the model
    assert counts.experiments == 3
    assert counts.params == sum(len(r["params"]) for r in dumped)
    assert counts.tags == sum(len(r["tags"]) for r in dumped)
    assert counts.datasets == sum(len(r["datasets"]) for r in dumped) > 0
    assert counts.metric_points == points(sqlite_store) > 100_000
    assert counts.artifacts == sum(len(r["artifacts"]) for r in dumped)
    # Each run's code state has its row in the database from the import on (before any read).
    with ws.meta.read() as connection:
        named = tracking_tables.runs.c.code_id
        coded = connection.execute(sa.select(named).where(named.is_not(None)))
        rows = connection.execute(sa.select(tracking_tables.code_states.c.code_id))
        assert set(coded.scalars()) == set(rows.scalars()) != set()
    assert_matches(ws, sqlite_store)
    # The same bytes logged by every run are stored once.
    digests = {a.digest for v in imported_runs(ws).values() for a in v.artifacts}
    assert len(digests) < counts.artifacts
    assert {e.name for e in ws.runs.experiments()} == {"churn", "fraud-v2", "vision"}


def test_second_import_adds_nothing(ws: Workspace, sqlite_store: MlflowStore) -> None:
    migrate.import_mlflow(sqlite_store.uri, workspace=ws)
    before = _row_counts(ws)
    again = migrate.import_mlflow(sqlite_store.uri, workspace=ws).counts
    assert (again.runs, again.runs_skipped, again.metric_points, again.artifacts) == (0, 53, 0, 0)
    assert _row_counts(ws) == before


def _row_counts(ws: Workspace) -> dict[str, int]:
    database = ws.parity_dir / "parity.db"
    with sqlite3.connect(database) as connection:
        return {
            table: connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("runs", "run_params", "run_tags", "run_metric_chunks", "run_artifacts")
        }


class Interrupted(Exception):
    pass


class BreaksAfter:
    """The store, but reading artifacts of the ``n``-th run fails: that run is half imported
    (created, params, tags and metrics written; no artifacts, no end, no done tag)."""

    def __init__(self, source: MlflowSource, n: int) -> None:
        self.source = source
        self.description = source.description
        self.left = n

    def experiments(self) -> list[MlflowExperiment]:
        return list(self.source.experiments())

    def runs(self, experiment_ids: Any, since_ms: int | None = None) -> Iterator[MlflowRun]:
        return self.source.runs(experiment_ids, since_ms)

    def metric_history(self, run_id: str) -> Iterator[MlflowMetricPoint]:
        return self.source.metric_history(run_id)

    def artifacts(self, run: MlflowRun) -> Iterator[MlflowArtifact]:
        self.left -= 1
        if self.left == 0:
            raise Interrupted("cut off")
        return self.source.artifacts(run)

    def open_artifact(self, run: MlflowRun, path: str) -> BinaryIO:
        return self.source.open_artifact(run, path)

    def registered_models(self) -> list[MlflowRegisteredModel]:
        return list(self.source.registered_models())

    def model_versions(self, name: str) -> list[MlflowModelVersion]:
        return list(self.source.model_versions(name))

    def close(self) -> None:
        self.source.close()


def _target(ws: Workspace) -> ImportTarget:
    runs = ws.runs
    assert isinstance(runs, RunStore)
    return ImportTarget(runs, ws.objects, ws.records, now_ms, ws.parity_dir / "tmp")


def test_interrupted_import_resumes_without_duplicates(
    ws: Workspace, sqlite_store: MlflowStore
) -> None:
    source = open_mlflow_source(sqlite_store.uri)
    try:
        with pytest.raises(Interrupted):
            import_mlflow_source(BreaksAfter(source, 21), _target(ws))
        half = imported_runs(ws)
        assert len(half) == 21
        unfinished = [v for v in half.values() if naming.DONE_TAG not in v.tags]
        assert len(unfinished) == 1
        assert unfinished[0].status is RunStatus.RUNNING

        def stop_at_30(done: int, total: int) -> None:
            if done == 30:
                raise Interrupted("killed")

        with pytest.raises(Interrupted):
            import_mlflow_source(source, _target(ws), progress=stop_at_30)
        resumed = import_mlflow_source(source, _target(ws))
    finally:
        source.close()
    assert (resumed.runs, resumed.runs_skipped) == (53 - 30, 30)
    assert len(imported_runs(ws)) == 53
    assert_matches(ws, sqlite_store)
    report = migrate.import_mlflow(sqlite_store.uri, verify=True, workspace=ws).verify
    assert report is not None
    assert report.ok, report.differences


def test_verify_passes_then_fails_when_the_workspace_is_tampered(
    workspace_dir: Path, sqlite_store: MlflowStore
) -> None:
    done = run_parity("import", "mlflow", "--from", sqlite_store.uri, "--verify", cwd=workspace_dir)
    assert done.returncode == 0, done.stderr
    assert "verified: 53 runs" in done.stdout
    assert "no difference" in done.stdout
    with sqlite3.connect(workspace_dir / ".parity" / "parity.db") as connection:
        connection.execute(
            "DELETE FROM run_params WHERE rowid = (SELECT min(rowid) FROM run_params)"
        )
        connection.execute(
            "DELETE FROM run_metric_chunks WHERE id = (SELECT max(id) FROM run_metric_chunks)"
        )
        connection.execute(
            "UPDATE run_tags SET value = 'tampered' WHERE key = 'team' AND rowid = "
            "(SELECT min(rowid) FROM run_tags WHERE key = 'team')"
        )
    failed = run_parity(
        "import", "mlflow", "--from", sqlite_store.uri, "--verify", "--json", cwd=workspace_dir
    )
    assert failed.returncode == 1, failed.stderr
    report = json.loads(failed.stdout)["verify"]
    assert report["ok"] is False
    assert {d["what"] for d in report["differences"]} >= {"params", "tags", "metric points"}
    assert "the workspace differs from" in failed.stderr


def test_dry_run_counts_and_writes_nothing(ws: Workspace, sqlite_store: MlflowStore) -> None:
    dry = migrate.import_mlflow(sqlite_store.uri, dry_run=True, workspace=ws)
    assert dry.dry_run
    assert (dry.counts.runs, dry.counts.metric_points) == (53, points(sqlite_store))
    assert ws.runs.search(limit=None) == []
    assert _row_counts(ws)["run_metric_chunks"] == 0
    real = migrate.import_mlflow(sqlite_store.uri, workspace=ws)
    dry_counts, real_counts = dry.counts.to_dict(), real.counts.to_dict()
    dry_registry, real_registry = dry_counts.pop("registry"), real_counts.pop("registry")
    assert real_counts == dry_counts
    # A dry run counts the registry from the source alone (it reads no model files).
    assert dry_registry == {"models": 1, "versions_added": 3, "versions_present": 0}
    assert {k: real_registry[k] for k in dry_registry} == dry_registry


def test_experiments_and_since_choose_the_runs(ws: Workspace, sqlite_store: MlflowStore) -> None:
    vision = next(e["id"] for e in sqlite_store.dump["experiments"] if e["name"] == "vision")
    wanted = [r for r in sqlite_store.dump["runs"] if r["experiment_id"] == vision]
    later = migrate.import_mlflow(
        sqlite_store.uri, experiments=["vision"], since="2999-01-01", workspace=ws
    )
    assert later.counts.runs == 0
    result = migrate.import_mlflow(sqlite_store.uri, experiments=["vision"], workspace=ws)
    assert result.counts.runs == len(wanted) > 0
    assert {v.experiment for v in imported_runs(ws).values()} == {"vision"}
    with pytest.raises(NotFoundError, match="has no experiment 'nope'") as raised:
        migrate.import_mlflow(sqlite_store.uri, experiments=["nope"], workspace=ws)
    assert "churn" in (raised.value.hint or "")
    with pytest.raises(UsageError, match="cannot read --since"):
        migrate.import_mlflow(sqlite_store.uri, since="last tuesday", workspace=ws)


def test_reader_returns_the_registry(sqlite_store: MlflowStore) -> None:
    source = SqlMlflowSource(sqlite_store.uri)
    try:
        (model,) = source.registered_models()
        (dumped,) = sqlite_store.dump["models"]
        assert model.name == dumped["name"] == "churn-model"
        assert model.description == dumped["description"] == "predicts churn"
        assert dict(model.tags) == dumped["tags"] == {"team": "growth"}
        assert dict(model.aliases) == {"champion": "3", "challenger": "2"}
        assert dict(model.aliases) == {k: str(v) for k, v in dumped["aliases"].items()}
        versions = source.model_versions(model.name)
        assert [v.version for v in versions] == ["1", "2", "3"]
        for ours, theirs in zip(versions, dumped["versions"], strict=True):
            assert (ours.run_id, ours.source, dict(ours.tags)) == (
                theirs["run_id"],
                theirs["source"],
                theirs["tags"],
            )
            assert (ours.stage or "None") == theirs["stage"]
        assert versions[0].stage == "Production"
    finally:
        source.close()


def test_cli_summary_and_errors(workspace_dir: Path, sqlite_store: MlflowStore) -> None:
    done = run_parity("import", "mlflow", "--from", sqlite_store.uri, "--json", cwd=workspace_dir)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)["counts"]
    assert (counts["runs"], counts["metric_points"]) == (53, points(sqlite_store))
    table = run_parity("import", "mlflow", "--from", sqlite_store.uri, cwd=workspace_dir)
    assert "runs already imported" in table.stdout
    assert "53" in table.stdout
    unknown = run_parity("import", "mlflow", "--from", "mysql://x/y", cwd=workspace_dir)
    assert unknown.returncode == 2
    assert "cannot read an MLflow store at 'mysql://x/y'" in unknown.stderr
    missing = run_parity("import", "mlflow", "--from", "sqlite:///nope.db", cwd=workspace_dir)
    assert missing.returncode == 3
    assert "no MLflow database at nope.db" in missing.stderr
    parity_db = f"sqlite:///{workspace_dir / '.parity' / 'parity.db'}"
    other = run_parity("import", "mlflow", "--from", parity_db, cwd=workspace_dir)
    assert other.returncode == 2
    assert "is not an MLflow tracking database" in other.stderr


def test_postgres_store_imports_the_same(ws: Workspace, postgres_store: MlflowStore) -> None:
    assert postgres_store.uri.startswith("postgresql://")
    result = migrate.import_mlflow(postgres_store.uri, verify=True, workspace=ws)
    assert result.counts.runs == len(postgres_store.dump["runs"]) == 53
    assert result.counts.metric_points == points(postgres_store)
    assert result.verify is not None
    assert result.verify.ok, result.verify.differences
    assert_matches(ws, postgres_store)
    source = SqlMlflowSource(postgres_store.uri)
    try:
        (model,) = source.registered_models()
        assert dict(model.aliases) == {"champion": "3", "challenger": "2"}
        assert [v.stage for v in source.model_versions(model.name)] == ["Production", None, None]
    finally:
        source.close()


def test_import_group_mounts_mlflow() -> None:
    from parity.cli.import_commands import import_group
    from parity.cli.main import COMMANDS

    assert sorted(import_group.commands) == ["dvc", "mlflow"]
    assert COMMANDS["import"][2] == import_group.help


PYFUNC_PREDICT = r"""
import json, sys, mlflow
import numpy as np
mlflow.set_tracking_uri(sys.argv[1])
rows = np.array(json.loads(sys.argv[3]))
model = mlflow.pyfunc.load_model(f"models:/{sys.argv[2]}")
print(json.dumps([float(p) for p in model.predict(rows)]))
"""


def test_the_registry_comes_with_the_runs_and_predicts_as_mlflow_does(
    ws: Workspace, sqlite_store: MlflowStore
) -> None:
    """The whole import from MLflow's SQLite store: versions keep their numbers and runs, aliases
    and the stage come as aliases, and each imported version predicts what MLflow's pyfunc
    loader predicts from the same store."""
    from parity.api import models
    from parity.api.models import EnvironmentMismatchWarning
    from tests.migrate.conftest import mlflow_python
    from tests.migrate.mlflow_tool import run_script

    result = migrate.import_mlflow(sqlite_store.uri, workspace=ws)
    assert result.counts.registry["versions_added"] == 3
    runs = imported_runs(ws)
    versions = models.versions("churn-model", workspace=ws)
    (dumped,) = sqlite_store.dump["models"]
    assert [v.version for v in versions] == [1, 2, 3]
    for ours, theirs in zip(versions, dumped["versions"], strict=True):
        assert ours.run_id == runs[theirs["run_id"]].id
    aliases = {a: v.version for v in versions for a in v.aliases}
    assert aliases == {"champion": 3, "challenger": 2, "production": 1}
    rows = [[0.5, 1.0], [2.5, 0.0], [1.0, 1.0]]
    for version in (1, 2, 3):
        theirs = run_script(
            mlflow_python(), PYFUNC_PREDICT, sqlite_store.uri, f"churn-model/{version}",
            json.dumps(rows),
        )  # fmt: skip
        with pytest.warns(EnvironmentMismatchWarning, match="only a declared environment"):
            loaded = models.load(f"churn-model/{version}", workspace=ws)
        assert [float(p) for p in loaded.predict(rows)] == theirs
    again = migrate.import_mlflow(sqlite_store.uri, workspace=ws).counts.registry
    assert again["versions_added"] == 0
