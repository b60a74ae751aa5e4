"""The run store over a SQLite file, the real PostgreSQL and a Parity server (``RemoteRunStore``
over HTTP, on a server's SQLite file): what is written reads back, the same way everywhere."""

from __future__ import annotations

import math
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from parity.core.errors import (
    AmbiguousReference,
    ConflictError,
    NotFoundError,
    StorageError,
    UsageError,
)
from parity.core.run import Artifact, DataLink, Metric, RunStatus
from parity.store.meta import open_metadata_store
from parity.tracking.buffer import MetricBuffer
from parity.tracking.repository import RunRepository
from parity.tracking.store import RunStore
from tests.tracking.conftest import Clock


@pytest.fixture
def sql_runs(database_url: str) -> Iterator[RunStore]:
    """A run store of the database itself, for what only SQL shows (commits, retries)."""
    meta = open_metadata_store(database_url)
    yield RunStore(meta, Clock())
    meta.close()


def new_run(runs: RunRepository, experiment: str = "churn", name: str | None = "a") -> str:
    return runs.create(
        experiment=experiment, name=name, user="alice", host="box", command=["python", "t.py"]
    )


def test_a_run_reads_back_whole(runs: RunRepository) -> None:
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


def test_latest_metric_is_the_highest_step_whatever_the_order(runs: RunRepository) -> None:
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
    runs.log_metrics(run_id, [Metric.of("acc", 0.8, 2, 15)])
    assert runs.metric_point_counts(run_id) == {"loss": 5, "acc": 1}  # each series' own
    assert math.isinf(Metric.of("x", float("inf"), 0, 0).value or 0)


def test_params_are_set_once(runs: RunRepository) -> None:
    run_id = new_run(runs)
    runs.log_params(run_id, {"lr": 0.1})
    runs.log_params(run_id, {"lr": 0.1, "depth": 3})  # the same value again is fine
    with pytest.raises(ConflictError, match=r"param 'lr' of run \w+ is already '0\.1'"):
        runs.log_params(run_id, {"lr": 0.2})
    assert runs.get(run_id).params == {"depth": "3", "lr": "0.1"}
    with pytest.raises(UsageError, match="invalid param name"):
        runs.log_params(run_id, {"bad'key": 1})


def test_run_ids_sort_by_start_and_resolve_by_prefix(runs: RunRepository) -> None:
    first = new_run(runs)
    runs.clock.now += 1000  # type: ignore[attr-defined]  # ids sort by their start second
    second = new_run(runs)
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


def test_soft_delete_and_restore(runs: RunRepository) -> None:
    kept, removed = new_run(runs), new_run(runs)
    runs.delete(removed)
    assert [r.id for r in runs.search()] == [kept]
    assert [r.id for r in runs.search(deleted=True)] == [removed]
    assert runs.get(removed).deleted
    runs.restore(removed)
    assert [r.id for r in runs.search()] == [removed, kept]


def _fail_after_next_commit(
    runs: RunStore, error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next commit is made, then reported as failed: a write whose outcome looks unknown."""
    dialect = runs.meta.engine.dialect
    commit = dialect.do_commit
    failed: list[bool] = []

    def commit_then_fail(dbapi_connection: Any) -> None:
        commit(dbapi_connection)
        if not failed:
            failed.append(True)
            raise error

    monkeypatch.setattr(dialect, "do_commit", commit_then_fail)


def _contention(dialect: str) -> Exception:
    """The error each database gives when other writers hold it (as its driver raises it)."""
    if dialect == "postgresql":
        import psycopg

        return psycopg.errors.SerializationFailure("could not serialize access")
    error = sqlite3.OperationalError("database is locked")
    error.sqlite_errorcode = sqlite3.SQLITE_BUSY  # type: ignore[attr-defined]
    return error


def _lost_connection(dialect: str) -> Exception:
    """The error a commit whose outcome is unknown gives (not contention: never retried)."""
    if dialect == "postgresql":
        import psycopg

        return psycopg.OperationalError("server closed the connection unexpectedly")
    return sqlite3.OperationalError("disk I/O error")


def test_a_batch_retried_after_its_commit_is_stored_once(
    sql_runs: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = sql_runs
    run_id = new_run(runs)
    points = [Metric.of("loss", 1 / (step + 1), step, 100 + step) for step in range(50)]
    _fail_after_next_commit(runs, _contention(runs.meta.dialect), monkeypatch)
    runs.log_metrics(run_id, points)  # retried after the commit that "failed"
    assert runs.count_metric_points(run_id) == 50
    assert runs.metric_history(run_id, "loss") == points


def test_the_same_batch_key_twice_stores_the_points_once(runs: RunRepository) -> None:
    run_id = new_run(runs)
    points = [Metric.of("loss", 0.5, 1, 10), Metric.of("acc", 0.9, 1, 10)]
    runs.log_metrics(run_id, points, batch="b" * 32)
    runs.log_metrics(run_id, points, batch="b" * 32)
    runs.log_metrics(run_id, points)  # another batch of the same points is another batch
    assert runs.count_metric_points(run_id) == 4
    assert [p.value for p in runs.metric_history(run_id, "loss")] == [0.5, 0.5]


def test_a_batch_key_reused_for_other_points_is_refused_and_changes_nothing(
    runs: RunRepository,
) -> None:
    run_id = new_run(runs)
    runs.log_metrics(run_id, [Metric.of("loss", 0.5, 1, 10)], batch="c" * 32)
    with pytest.raises(ConflictError, match="stored before with other points for 'loss'"):
        runs.log_metrics(run_id, [Metric.of("loss", 9.0, 2, 20)], batch="c" * 32)
    # Neither the history nor the latest value took the refused points.
    assert [p.value for p in runs.metric_history(run_id, "loss")] == [0.5]
    assert runs.get(run_id).metrics == {"loss": 0.5}


def test_a_batch_the_buffer_writes_again_after_a_lost_commit_is_stored_once(
    sql_runs: RunStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = sql_runs
    run_id = new_run(runs)
    buffer = MetricBuffer(lambda points, key: runs.log_metrics(run_id, points, key), interval=60)
    _fail_after_next_commit(runs, _lost_connection(runs.meta.dialect), monkeypatch)
    for step in range(10):
        buffer.add(Metric.of("loss", float(step), step, step))
    with pytest.raises(StorageError):
        buffer.flush()
    buffer.add(Metric.of("loss", 10.0, 10, 10))
    buffer.close()
    assert [p.step for p in runs.metric_history(run_id, "loss")] == list(range(11))


def test_only_contention_is_retried(sql_runs: RunStore) -> None:
    runs = sql_runs
    run_id = new_run(runs)
    attempts: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "run_params" in statement:
            attempts.append(statement)

    with runs.meta.write() as connection:
        connection.execute(sa.text("DROP TABLE run_params"))
    sa.event.listen(runs.meta.engine, "before_cursor_execute", count)
    started = time.monotonic()
    with pytest.raises(StorageError, match="run_params") as error:
        runs.log_params(run_id, {"model": "rf"})
    assert len(attempts) == 1  # a missing table, like a disk I/O error, is not worth a retry
    assert time.monotonic() - started < 1
    assert "\n" not in str(error.value)


def test_short_ids_are_the_shortest_prefixes_no_other_run_shares(runs: RunRepository) -> None:
    # The clock ticks a millisecond a run: all start in one second, so 8 characters are not enough.
    made = [new_run(runs) for _ in range(5)]
    later = runs.clock.now  # type: ignore[attr-defined]
    runs.clock.now = later + 5_000  # type: ignore[attr-defined]
    alone = new_run(runs)
    short = runs.short_ids([*made, alone])
    assert short[alone] == alone[:8]
    for run_id in made:
        prefix = short[run_id]
        assert len(prefix) > 8
        assert runs.resolve(prefix) == run_id
        with pytest.raises(AmbiguousReference):
            runs.resolve(prefix[:-1])
    runs.delete(made[0])  # deleted runs still take prefixes: resolve finds them too
    assert runs.short_ids(made) == {r: short[r] for r in made}


def test_keys_lists_what_filters_can_name_and_artifacts_name_runs_oldest_first(
    runs: RunRepository,
) -> None:
    first, second = new_run(runs), new_run(runs)
    runs.log_metrics(first, [Metric.of("loss", 0.5, 0, 1)])
    runs.log_params(second, {"lr": 0.1})
    runs.set_tags(second, {"stage": "dev"})
    assert runs.keys() == {"metrics": ["loss"], "params": ["lr"], "tags": ["stage"]}
    for run_id in (second, first):
        runs.add_artifact(run_id, Artifact("model", "model", "f" * 64, 1))
    assert runs.runs_that_logged("f" * 64, "model") == [first, second]


def test_the_runs_that_read_a_data_version_are_its_inputs_oldest_first(
    runs: RunRepository,
) -> None:
    version, other = "a" * 64, "b" * 64
    first, second, writer, deleted = (new_run(runs) for _ in range(4))
    for run_id in (second, first, deleted):
        runs.add_data(run_id, "input", [DataLink("train.csv", version)])
    runs.add_data(first, "input", [DataLink("copy/train.csv", version)])  # twice: listed once
    runs.add_data(writer, "output", [DataLink("train.csv", version)])
    runs.add_data(second, "input", [DataLink("test.csv", other)])
    runs.delete(deleted)
    assert runs.runs_that_read(version) == [first, second]
    assert runs.runs_that_read(other) == [second]
    assert runs.runs_that_read("c" * 64) == []


def test_the_runs_that_wrote_a_data_version_are_its_outputs_oldest_first(
    runs: RunRepository,
) -> None:
    version = "a" * 64
    reader, first, second, deleted = (new_run(runs) for _ in range(4))
    runs.add_data(reader, "input", [DataLink("train.csv", version)])
    for run_id in (second, first, deleted):
        runs.add_data(run_id, "output", [DataLink("prepared/train.csv", version)])
    runs.add_data(first, "output", [DataLink("copy.csv", version)])  # twice: listed once
    runs.delete(deleted)
    assert runs.runs_that_wrote(version) == [first, second]
    assert runs.runs_that_read(version) == [reader]
    assert runs.runs_that_wrote("c" * 64) == []


def test_a_run_ends_once(runs: RunRepository) -> None:
    run_id = new_run(runs)
    runs.end(run_id, RunStatus.FINISHED, 0, end_ms=500)
    runs.end(run_id, RunStatus.FINISHED, 0, end_ms=900)  # a retry: nothing changes
    assert runs.get(run_id).end_ms == 500
    with pytest.raises(ConflictError, match="already ended finished"):
        runs.end(run_id, RunStatus.FAILED, 1)
    assert runs.get(run_id).status is RunStatus.FINISHED
    with pytest.raises(NotFoundError):
        runs.end("f" * 32, RunStatus.FINISHED)
