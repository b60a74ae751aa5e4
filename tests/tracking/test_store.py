"""The run store over a SQLite file and the real PostgreSQL: what is written reads back."""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest

from parity.core.errors import AmbiguousReference, ConflictError, NotFoundError, UsageError
from parity.core.run import Artifact, DataLink, Metric, RunStatus
from parity.store.meta import open_metadata_store
from parity.tracking.store import RunStore


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000_000

    def __call__(self) -> int:
        self.now += 1
        return self.now


@pytest.fixture
def runs(database_url: str) -> Iterator[RunStore]:
    meta = open_metadata_store(database_url)
    yield RunStore(meta, Clock())
    meta.close()


def new_run(runs: RunStore, experiment: str = "churn", name: str | None = "a") -> str:
    return runs.create(
        experiment=experiment, name=name, user="alice", host="box", command=["python", "t.py"]
    )


def test_a_run_reads_back_whole(runs: RunStore) -> None:
    run_id = new_run(runs)
    runs.log_params(run_id, {"model": "rf", "n_estimators": 100, "grid": [1, 2]})
    runs.set_tags(run_id, {"stage": "dev"})
    runs.set_tags(run_id, {"stage": "prod"})
    runs.log_metrics(run_id, [Metric.of("acc", 0.8, 0, 1), Metric.of("acc", 0.9, 1, 2)])
    runs.add_data(run_id, "input", [DataLink("data/train.csv", "d" * 64)])
    runs.add_data(run_id, "output", [DataLink("out/model", "e" * 64)])
    runs.add_artifact(run_id, Artifact("model", "model", "f" * 64, 123))
    runs.set_sources(run_id, None, "c" * 64)
    runs.end(run_id, RunStatus.FAILED, exit_code=2)

    view = runs.get(run_id)
    assert view.experiment == "churn"
    assert (view.name, view.user, view.host, view.command) == (
        "a",
        "alice",
        "box",
        ("python", "t.py"),
    )
    assert view.status is RunStatus.FAILED
    assert view.exit_code == 2
    assert view.end_ms is not None
    assert view.end_ms > view.start_ms
    assert view.params == {"grid": "[1, 2]", "model": "rf", "n_estimators": "100"}
    assert view.tags == {"stage": "prod"}
    assert view.metrics == {"acc": 0.9}
    assert view.inputs == (DataLink("data/train.csv", "d" * 64),)
    assert view.outputs == (DataLink("out/model", "e" * 64),)
    assert runs.artifacts(run_id) == [Artifact("model", "model", "f" * 64, 123)]
    assert view.environment_id == "c" * 64
    assert view.code is None
    assert view.to_dict()["status"] == "failed"


def test_latest_metric_is_the_highest_step_whatever_the_order(runs: RunStore) -> None:
    run_id = new_run(runs)
    runs.log_metrics(run_id, [Metric.of("loss", 0.5, 5, 10), Metric.of("loss", 0.9, 1, 11)])
    runs.log_metrics(run_id, [Metric.of("loss", 0.7, 3, 12)])  # an older step, logged later
    assert runs.get(run_id).metrics == {"loss": 0.5}
    runs.log_metrics(run_id, [Metric.of("loss", 0.4, 5, 13)])  # same step, newer timestamp
    assert runs.get(run_id).metrics == {"loss": 0.4}
    runs.log_metrics(run_id, [Metric.of("loss", float("nan"), 6, 14)])
    assert runs.get(run_id).metrics == {"loss": None}
    history = runs.metric_history(run_id, "loss")
    assert [(p.step, p.value) for p in history] == [
        (1, 0.9),
        (3, 0.7),
        (5, 0.5),
        (5, 0.4),
        (6, None),
    ]
    assert runs.count_metric_points(run_id) == 5
    assert math.isinf(Metric.of("x", float("inf"), 0, 0).value or 0)


def test_params_are_set_once(runs: RunStore) -> None:
    run_id = new_run(runs)
    runs.log_params(run_id, {"lr": 0.1})
    runs.log_params(run_id, {"lr": 0.1, "depth": 3})  # the same value again is fine
    with pytest.raises(ConflictError, match=r"param 'lr' of run \w+ is already '0\.1'"):
        runs.log_params(run_id, {"lr": 0.2})
    assert runs.get(run_id).params == {"depth": "3", "lr": "0.1"}
    with pytest.raises(UsageError, match="invalid param name"):
        runs.log_params(run_id, {"bad'key": 1})


def test_run_ids_sort_by_start_and_resolve_by_prefix(runs: RunStore) -> None:
    first, second = new_run(runs), new_run(runs)
    assert first < second
    assert runs.resolve(second[:20]) == second
    assert runs.resolve(first.upper()) == first
    with pytest.raises(AmbiguousReference):
        runs.resolve(first[:4])
    with pytest.raises(NotFoundError, match="no run has an id starting with ffff"):
        runs.resolve("ffff")
    with pytest.raises(UsageError, match="is not a run id"):
        runs.resolve("not-hex")
    with pytest.raises(NotFoundError):
        runs.end("0" * 32, RunStatus.FINISHED)


def test_soft_delete_and_restore(runs: RunStore) -> None:
    kept, removed = new_run(runs), new_run(runs)
    runs.delete(removed)
    assert [r.id for r in runs.search()] == [kept]
    assert [r.id for r in runs.search(deleted=True)] == [removed]
    assert runs.get(removed).deleted
    runs.restore(removed)
    assert [r.id for r in runs.search()] == [removed, kept]
