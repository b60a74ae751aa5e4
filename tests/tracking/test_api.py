"""The Python API in-process: start_run's captures, what a run logs, and how it ends."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

import parity
from parity.api import runs
from parity.api._run import ERROR_TAG
from parity.core.errors import NotFoundError, UsageError
from parity.core.run import RunStatus
from parity.tracking.store import RunStore
from parity.workspace import Workspace
from tests.tracking.conftest import PUBLIC_REMOTE, git


def test_a_run_captures_its_sources_and_what_it_logs(repo: Path, workspace: Workspace) -> None:
    (repo / "train.py").write_text("print('changed')\n")
    (repo / "model.txt").write_text("weights\n")
    folder = repo / "plots"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "b.txt").write_text("bb")
    with parity.start_run(
        experiment="churn",
        name="first",
        params={"lr": 0.1},
        tags={"team": "ml"},
        workspace=workspace,
    ) as run:
        run.log_param("depth", 3)
        run.set_tag("stage", "dev")
        for value in (0.5, 0.4, 0.3):
            run.log_metric("loss", value)  # steps 0, 1, 2
        run.log_metrics({"acc": 0.9, "f1": 0.8}, step=7)
        run.log_artifact(repo / "model.txt")
        run.log_artifact(folder, name="plots")
        run.log_dict({"b": 1, "a": [1, 2]}, "config.json")
        run.log_text("hello", "notes/hello.txt")
        assert run.environment_id is not None
    view = runs.get(run.id[:10], workspace=workspace)
    assert view.status is RunStatus.FINISHED
    assert (view.experiment, view.name, view.user) == ("churn", "first", workspace.user)
    assert view.params == {"depth": "3", "lr": "0.1"}
    assert view.tags == {"stage": "dev", "team": "ml"}
    assert view.metrics == {"acc": 0.9, "f1": 0.8, "loss": 0.3}
    store = RunStore(workspace.meta, lambda: 0)
    assert [p.step for p in store.metric_history(run.id, "loss")] == [0, 1, 2]
    assert view.code is not None
    assert view.code["commit"] == git(repo, "rev-parse", "HEAD").strip()
    assert view.code["dirty"] is True
    assert view.code["repo_url"] == PUBLIC_REMOTE
    assert view.environment_id == run.environment_id
    # The command line of the process that ran it (pytest's own, or an xdist worker's).
    assert list(view.command) == [Path(sys.executable).name, *sys.argv]
    artifacts = {a.path: a for a in view.artifacts}
    assert sorted(artifacts) == [
        "config.json",
        "model.txt",
        "notes/hello.txt",
        "plots/a.txt",
        "plots/b.txt",
    ]
    assert workspace.objects.get_bytes(artifacts["model.txt"].digest) == b"weights\n"
    config = json.loads(workspace.objects.get_bytes(artifacts["config.json"].digest))
    assert config == {"a": [1, 2], "b": 1}
    assert artifacts["plots/b.txt"].size == 2


def test_a_metric_must_be_a_number(workspace: Workspace) -> None:
    with parity.start_run(workspace=workspace) as run:
        with pytest.raises(UsageError, match="metric 'acc' must be a number, got 'high'"):
            run.log_metric("acc", "high")  # type: ignore[arg-type]
        with pytest.raises(UsageError, match="invalid metric name"):
            run.log_metric("bad'name", 1.0)
        run.log_metric("acc", 1)  # ints and numpy numbers are numbers
    assert runs.get(run.id, workspace=workspace).metrics == {"acc": 1.0}


def test_an_exception_fails_the_run_with_its_last_line(workspace: Workspace) -> None:
    with pytest.raises(ValueError, match="bad input"), parity.start_run(workspace=workspace) as run:
        raise ValueError("bad input")
    view = runs.get(run.id, workspace=workspace)
    assert view.status is RunStatus.FAILED
    assert view.tags[ERROR_TAG] == "ValueError: bad input"


def test_keyboard_interrupt_kills_the_run(workspace: Workspace) -> None:
    with pytest.raises(KeyboardInterrupt), parity.start_run(workspace=workspace) as run:
        run.log_metric("loss", 1.0)
        raise KeyboardInterrupt
    view = runs.get(run.id, workspace=workspace)
    assert view.status is RunStatus.KILLED
    assert view.metrics == {"loss": 1.0}  # flushed on the way out


def test_a_child_process_joins_the_run_named_by_parity_run_id(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    outer = parity.start_run(experiment="wrapped", workspace=workspace)
    monkeypatch.setenv("PARITY_RUN_ID", outer.id)
    with parity.start_run(params={"inner": True}, workspace=workspace) as inner:
        inner.log_metric("m", 2.0)
    assert inner.id == outer.id
    assert runs.get(outer.id, workspace=workspace).status is RunStatus.RUNNING  # its owner ends it
    outer.end()
    view = runs.get(outer.id, workspace=workspace)
    assert (view.status, view.params, view.metrics) == (
        RunStatus.FINISHED,
        {"inner": "true"},
        {"m": 2.0},
    )
    monkeypatch.setenv("PARITY_RUN_ID", "0" * 32)
    with pytest.raises(NotFoundError, match=r"PARITY_RUN_ID=0+ is not a run"):
        parity.start_run(workspace=workspace)


def test_parent_runs_and_listing(workspace: Workspace) -> None:
    with parity.start_run(experiment="sweep", name="parent", workspace=workspace) as parent:
        for lr in (0.1, 0.01):
            with parity.start_run(
                experiment="sweep", params={"lr": lr}, parent=parent.id[:16], workspace=workspace
            ) as child:
                child.log_metric("acc", 1 - lr)
    children = runs.list(
        filter=f"attributes.parent_id = '{parent.id}'", sort="-metrics.acc", workspace=workspace
    )
    assert [c.params["lr"] for c in children] == ["0.01", "0.1"]
    assert len(runs.list(experiment="sweep", workspace=workspace)) == 3


def test_use_data_records_the_version_and_profiles_a_table(
    repo: Path, workspace: Workspace
) -> None:
    table = repo / "data" / "train.csv"
    table.parent.mkdir()
    table.write_text("x,y\n" + "".join(f"{i},{i % 3}\n" for i in range(200)))
    with parity.start_run(workspace=workspace) as run:
        version = run.use_data("data/train.csv")
        assert run.use_data(table) == version  # the same content is the same version
    view = runs.get(run.id, workspace=workspace)
    assert [(link.path, link.data_version) for link in view.inputs] == [("data/train.csv", version)]
    assert workspace.monitoring.profile_of(version) is not None
