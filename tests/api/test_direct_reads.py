"""Reads without SQLAlchemy: ``parity status``, ``runs list`` and ``models show NAME`` of an
embedded workspace read its SQLite database with the stdlib ``sqlite3`` and answer exactly what
the stores answer (the same views, errors, text and JSON), fall back to the stores whenever the
database is not at this schema, and do not import SQLAlchemy."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import parity
from parity.api import _direct, deploy, models, runs
from parity.api import workspace as workspaces
from parity.core.config import Config
from parity.core.errors import (
    ConflictError,
    NotFoundError,
    ParityError,
    StorageError,
    UsageError,
)
from parity.core.launch import Launch
from parity.core.run import Artifact, DataLink, Metric, RunStatus
from parity.store.meta import direct
from parity.tracking.store import RunStore
from parity.workspace import Workspace, now_ms, open_workspace
from tests.tracking.conftest import make_repo

PROD = {"stage": "prod"}
# name: (experiment, params, metrics, tags, status)
RUNS: dict[str, tuple[str, dict[str, str], dict[str, float], dict[str, str], str]] = {
    "rf-small": ("churn", {"model": "rf", "depth": "3"}, {"acc": 0.81, "f1": 0.7}, {}, "finished"),
    "rf-deep": ("churn", {"model": "rf", "depth": "12"}, {"acc": 0.93}, PROD, "finished"),
    "gbm": ("churn", {"model": "gbm", "depth": "6"}, {"acc": 0.95}, {"stage": "dev"}, "failed"),
    "logreg": ("churn", {"model": "LogReg", "C": "0.5"}, {"acc": 0.78, "f1": 0.9}, {}, "killed"),
    "other": ("fraud", {"model": "rf", "depth": "x3"}, {"acc": 0.99}, PROD, "finished"),
}  # fmt: skip
# Two runs whose ids share 12 characters: their short ids need more than 8.
TWINS = ("0123456789ab0000" + "0" * 16, "0123456789ab1111" + "1" * 16)
FILTERS = [
    "",
    "metrics.acc > 0.9 and params.model = 'rf'",
    "params.model = 'gbm' or tags.stage = 'prod'",
    "not params.model = 'rf'",
    "not (tags.stage = 'prod' or metrics.f1 < 0.8)",
    "params.depth > 5",
    "params.depth = 3",
    "params.depth LIKE '1%'",
    "params.model LIKE 'LOG%'",
    "params.model != 'rf'",
    "tags.stage != 'prod'",
    "metrics.f1 >= 0.8",
    "metrics.acc = 0.95 or metrics.acc <= 0.78",
    "metrics.missing > 0",
    "attributes.status = 'FAILED'",
    "attributes.status != 'finished'",
    "attributes.status LIKE 'fin%'",
    "attributes.experiment = 'fraud'",
    "attributes.name LIKE 'rf-%'",
    "attributes.start_time > 0 and attributes.end_time >= 0",
    "attributes.exit_code = 3",
    "attributes.id LIKE '0123%'",
    "attributes.user = 'alice' and attributes.host != 'box'",
    "attributes.parent_id = '" + TWINS[0] + "'",
    "attributes.environment_id = 'missing'",
]
SORTS: list[tuple[str, ...]] = [
    (),
    ("-metrics.acc",),
    ("metrics.f1",),
    ("-params.depth",),
    ("params.depth", "name"),
    ("tags.stage", "-metrics.acc"),
    ("-start_time",),
    ("attributes.status", "-attributes.id"),
]


@pytest.fixture
def populated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace holding runs of every kind (one captured by start_run, with its code
    record), a deleted run, twins, a registered model with aliases, a lock and deployments."""
    repo = make_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    with open_workspace(repo, environ={}) as ws:
        with parity.start_run(experiment="churn", name="captured", workspace=ws) as run:
            run.log_metric("acc", 0.5)
            run.log_param("model", "captured")
        store = RunStore(ws.meta, now_ms, ws.records)
        ids = {}
        for name, (experiment, params, metrics, tags, status) in RUNS.items():
            run_id = store.create(
                experiment=experiment,
                name=name,
                user="alice",
                host="box" if name != "gbm" else None,
                command=["python", "train.py", name],
                code_id="ab" * 32 if name == "other" else None,  # a record this store lacks
                launch=Launch("src", True, {"OMP_NUM_THREADS": "1"}),
            )
            store.log_params(run_id, params)
            store.set_tags(run_id, tags)
            store.log_metrics(run_id, [Metric.of(k, v, 0, 1) for k, v in metrics.items()])
            store.log_seeds(run_id, {"python": 7})
            store.add_data(run_id, "input", [DataLink("data/b.csv", "cd" * 32)])
            store.add_data(run_id, "input", [DataLink("data/a.csv", "ef" * 32)])
            store.add_artifact(run_id, Artifact("model.txt", "file", "12" * 32, 5))
            store.end(run_id, RunStatus(status), exit_code=3 if status == "failed" else None)
            ids[name] = run_id
        for twin in TWINS:
            store.create(
                experiment="twins", name=None, user="bob", host=None, command=[], run_id=twin
            )
        store.create(
            experiment="churn",
            name="child",
            user="alice",
            host=None,
            command=["x"],
            parent_id=TWINS[0],
        )
        store.delete(ids["logreg"])
        actor = ws.actor()
        first = ws.registry.register("clf", "34" * 32, actor, run_id=ids["rf-deep"])
        ws.registry.register("clf", "56" * 32, actor, run_id=run.id, description="second")
        ws.registry.register("other-model", "78" * 32, actor)
        ws.registry.set_alias("clf", 1, "production", actor, reason="best")
        ws.registry.set_alias("clf", 2, "candidate", actor, reason="next")
        ws.registry.set_alias("clf", 2, "b-team", actor, reason="next")
        ws.registry.lock("clf", 1, actor, reason="serving")
        ws.deployments.record("prod-eu", first, None, "img@sha256:" + "9" * 64, "ci", "record")
        ws.deployments.record("staging", first, "ab" * 32, None, "ci", "serve")
    return repo


def _reader(repo: Path, environ: dict[str, str] | None = None) -> Workspace:
    return open_workspace(repo, environ=environ or {})


def _through_stores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every API call from now on reads through the stores, as before this module."""
    monkeypatch.setattr(_direct, "open_direct_sqlite", lambda path: None)


def _both(
    repo: Path, monkeypatch: pytest.MonkeyPatch, call: Any, environ: dict[str, str] | None = None
) -> tuple[Any, Any]:
    """``call(workspace)`` read directly (checked to open no SQLAlchemy store), then through
    the stores; exceptions are compared by type, text and hint."""

    def outcome(ws: Workspace) -> Any:
        try:
            return call(ws)
        except ParityError as exc:
            return (type(exc), str(exc), exc.hint)

    with _reader(repo, environ) as ws:
        direct_answer = outcome(ws)
        assert "meta" not in ws.__dict__, "the direct read opened the SQLAlchemy store"
    with monkeypatch.context() as patched:
        _through_stores(patched)
        with _reader(repo, environ) as ws:
            stored_answer = outcome(ws)
            assert "meta" in ws.__dict__
    return direct_answer, stored_answer


def test_runs_list_filters_match_the_store(
    populated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _reader(populated) as fast, _reader(populated) as slow:
        for text in FILTERS:
            for sort in SORTS:
                for experiment, limit, deleted in (
                    (None, None, False),
                    ("churn", 2, False),
                    (None, 3, True),
                ):
                    asked: dict[str, Any] = {
                        "filter": text,
                        "sort": list(sort),
                        "limit": limit,
                        "deleted": deleted,
                    }
                    found = runs.list(experiment, **asked, workspace=fast)
                    with monkeypatch.context() as patched:
                        _through_stores(patched)
                        stored = runs.list(experiment, **asked, workspace=slow)
                    assert found == stored, (experiment, asked)
        assert "meta" not in fast.__dict__
        assert "meta" in slow.__dict__


def test_runs_list_answers_in_full(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    found, stored = _both(populated, monkeypatch, lambda ws: runs.list(workspace=ws))
    assert found == stored
    assert [v.to_dict() for v in found] == [v.to_dict() for v in stored]
    by_name = {view.name: view for view in found}
    assert len(found) == 8  # the deleted run is not listed
    captured = by_name["captured"]
    assert captured.code is not None
    assert captured.code.get("commit")  # read from its record
    other = by_name["other"]
    assert other.code is not None
    assert other.code["missing"] is True
    assert other.code["captured_by"] == "alice on box"
    assert [link.path for link in other.inputs] == ["data/a.csv", "data/b.csv"]
    assert other.seeds == {"python": "7"}
    assert other.launch is not None
    assert by_name["child"].parent_id == TWINS[0]


def test_errors_match_the_store(populated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for call in (
        lambda ws: runs.list(limit=0, workspace=ws),
        lambda ws: runs.list(filter="attributes.status = 'done'", workspace=ws),
        lambda ws: runs.list(filter="attributes.start_time > 'yesterday'", workspace=ws),
        lambda ws: models.versions("nope", workspace=ws),
    ):
        direct_error, stored_error = _both(populated, monkeypatch, call)
        assert isinstance(direct_error, tuple), direct_error  # it failed
        assert issubclass(direct_error[0], UsageError | NotFoundError)
        assert direct_error == stored_error


def test_short_ids_and_keys_match_the_store(
    populated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _reader(populated) as ws:
        every = [view.id for view in runs.list(workspace=ws)]
        every += [view.id for view in runs.list(deleted=True, workspace=ws)]
    shown, stored = _both(populated, monkeypatch, lambda ws: runs.short_ids(every, workspace=ws))
    assert shown == stored
    assert shown[TWINS[0]] == TWINS[0][:13]
    assert shown[TWINS[1]] == TWINS[1][:13]
    keys, stored_keys = _both(populated, monkeypatch, lambda ws: runs.keys(workspace=ws))
    assert keys == stored_keys
    assert keys["params"] == ["C", "depth", "model"]


def test_models_show_and_list_match_the_store(
    populated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    versions, stored = _both(
        populated, monkeypatch, lambda ws: models.versions("clf", workspace=ws)
    )
    assert versions == stored
    assert [(v.version, v.aliases, v.locked) for v in versions] == [
        (1, ("production",), True),
        (2, ("b-team", "candidate"), False),
    ]
    listed, stored_list = _both(populated, monkeypatch, lambda ws: models.list(workspace=ws))
    assert listed == stored_list
    running, stored_running = _both(
        populated, monkeypatch, lambda ws: deploy.list("clf@production", workspace=ws)
    )
    assert running == stored_running
    assert [(d.place, d.source) for d in running] == [("prod-eu", "record"), ("staging", "serve")]


def test_status_matches_the_store_and_opens_no_object_store(
    populated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    report, stored = _both(populated, monkeypatch, lambda ws: workspaces.status(workspace=ws))
    assert report == stored
    assert report["runs"] == {"failed": 1, "finished": 4, "running": 3}
    with _reader(populated) as ws:
        workspaces.status(workspace=ws)
        assert "objects" not in ws.__dict__  # the default folder's URL needs no store


def test_status_names_a_configured_object_store_as_the_store_does(
    populated: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    environ = {"PARITY_OBJECTS_URL": str(tmp_path / "elsewhere")}
    report, stored = _both(
        populated, monkeypatch, lambda ws: workspaces.status(workspace=ws), environ
    )
    assert report == stored
    assert report["objects"]["url"] == (tmp_path / "elsewhere").as_uri()


def test_a_database_at_another_schema_is_read_through_the_store(
    populated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This Parity expecting other heads (a migration it has and the database lacks): no door.
    monkeypatch.setattr(direct, "HEADS", ("zz99",))
    with _reader(populated) as ws:
        assert len(runs.list(workspace=ws)) == 8
        assert "meta" in ws.__dict__
    monkeypatch.undo()
    # A database a newer Parity stamped: the store's own refusal, not a direct answer.
    with sqlite3.connect(populated / ".parity" / "parity.db") as connection:
        connection.execute("INSERT INTO alembic_version VALUES ('zz99')")
    connection.close()
    with _reader(populated) as ws, pytest.raises(ConflictError):
        runs.list(workspace=ws)


def test_only_a_local_sqlite_file_is_read_directly(tmp_path: Path) -> None:
    def workspace(**core: str) -> Workspace:
        config = Config.from_dict({"parity": {"format": 1}, "core": core})
        return Workspace(root=tmp_path, config=config)

    assert _direct.sqlite_file(workspace()) == tmp_path / ".parity" / "parity.db"
    assert _direct.sqlite_file(workspace(metadata_url="sqlite:////srv/p.db")) == Path("/srv/p.db")
    for other in (
        "postgresql+psycopg://u@h/db",
        "sqlite:////srv/p.db?mode=ro",
        "sqlite:////srv/50%25/p.db",
        "sqlite://",
    ):
        assert _direct.sqlite_file(workspace(metadata_url=other)) is None, other
    assert _direct.sqlite_file(workspace(server_url="http://127.0.0.1:1")) is None


# The CLI, in a fresh process: reading directly, then with the door closed (the stores).
_CLI = """
import sys, runpy
if sys.argv[1] == "stores":
    import parity.api._direct as door
    door.open_direct_sqlite = lambda path: None
sys.argv = ["parity", *sys.argv[2:]]
try:
    runpy.run_module("parity", run_name="__main__")
except SystemExit as exc:
    code = exc.code
else:
    code = 0
sys.stdout.flush()
print(f"\\n[exit {code}; sqlalchemy {'sqlalchemy' in sys.modules}]", file=sys.stderr)
"""
COMMANDS = [
    ["status"],
    ["status", "--json"],
    ["runs", "list"],
    ["runs", "list", "--json"],
    ["runs", "list", "-f", "metrics.acc > 0.8", "-s", "-metrics.acc", "-n", "3"],
    ["runs", "list", "-e", "churn", "-f", "params.nothing = 1"],
    ["runs", "list", "--deleted"],
    ["models", "show", "clf"],
    ["models", "show", "clf", "--json"],
    ["models", "show", "nope"],
    ["models", "list"],
]


def _cli(repo: Path, mode: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    return subprocess.run(
        [sys.executable, "-c", _CLI, mode, *argv],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_cli_prints_the_same_without_importing_sqlalchemy(populated: Path) -> None:
    for argv in COMMANDS:
        fast = _cli(populated, "direct", argv)
        slow = _cli(populated, "stores", argv)
        assert fast.stdout == slow.stdout, argv
        fast_tail = fast.stderr.rsplit("\n[exit ", 1)
        slow_tail = slow.stderr.rsplit("\n[exit ", 1)
        assert fast_tail[0] == slow_tail[0], argv  # messages and hints
        assert fast_tail[1].split(";")[0] == slow_tail[1].split(";")[0], argv  # exit code
        assert "sqlalchemy False" in fast_tail[1], (argv, fast.stderr)
        assert "sqlalchemy True" in slow_tail[1], argv
    assert "clf" in _cli(populated, "direct", ["models", "show", "clf"]).stdout


def test_a_database_error_is_the_stores_parity_error(
    populated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(populated / ".parity" / "parity.db") as connection:
        connection.execute("DROP TABLE run_seeds")  # a damaged database at the right stamp
    connection.close()
    error, stored = _both(populated, monkeypatch, lambda ws: runs.list(workspace=ws))
    assert error == stored
    assert error[0] is StorageError
    assert "no such table: run_seeds" in error[1]


def test_a_postgresql_workspace_reads_through_the_store(
    tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = make_repo(tmp_path / "repo")
    monkeypatch.chdir(repo)
    environ = {"PARITY_METADATA_URL": postgres_url}
    with open_workspace(repo, environ=environ) as ws:
        RunStore(ws.meta, now_ms, ws.records).create(
            experiment="pg", name="one", user="alice", host=None, command=[]
        )
    with open_workspace(repo, environ=environ) as ws:
        assert _direct.sqlite_file(ws) is None
        assert [view.name for view in runs.list(workspace=ws)] == ["one"]
        assert workspaces.status(workspace=ws)["metadata"]["dialect"] == "postgresql"
        assert "meta" in ws.__dict__


def test_a_code_state_without_its_row_is_read_from_its_record(
    populated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A run recorded before migration t004: its code state has a record and no row.
    with sqlite3.connect(populated / ".parity" / "parity.db") as connection:
        assert connection.execute("DELETE FROM code_states").rowcount >= 1
    connection.close()
    found, stored = _both(populated, monkeypatch, lambda ws: runs.list(workspace=ws))
    assert found == stored
    captured = next(view for view in found if view.name == "captured")
    assert captured.code is not None
    assert captured.code.get("commit")
