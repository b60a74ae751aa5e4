"""A run's journal delivered by its sender (``run_journal``): in order, once, around a server
that fails, hangs or refuses; and what is left, by ``sync_journals`` (``delivery``)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from parity.core.errors import ConflictError, StorageError, UsageError
from parity.core.run import Artifact, DataLink, Metric, RunStatus
from parity.store.meta import open_metadata_store
from parity.tracking.delivery import sync_journals
from parity.tracking.journal import journals, unsent
from parity.tracking.run_journal import RunJournal
from parity.tracking.store import RunStore
from tests.tracking.conftest import Clock

SERVER = "http://parity.test"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RunStore]:
    meta = open_metadata_store(f"sqlite:///{tmp_path / 'server.db'}")
    yield RunStore(meta, Clock())
    meta.close()


def _run(store: RunStore) -> str:
    return store.create(experiment="e", name=None, user="u", host=None, command=[])


def _points(start: int, count: int) -> list[Metric]:
    return [Metric("loss", 1 / (s + 1), s, 1000 + s) for s in range(start, start + count)]


class Flaky:
    """The store behind a server that is down for its first ``failures`` calls."""

    def __init__(self, store: RunStore, failures: int) -> None:
        self.store = store
        self.failures = failures
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            if self.calls <= self.failures:
                raise StorageError("cannot reach the Parity server at http://parity.test")
            return method(*args, **kwargs)

        return call


class Hanging:
    """The store behind a server that takes metric batches and never answers."""

    def __init__(self, store: RunStore) -> None:
        self.store = store
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def log_metrics(self, run_id: str, points: Sequence[Metric], batch: str | None = None) -> None:
        self.release.wait(30)
        raise StorageError("timed out")


def test_everything_a_run_writes_arrives_and_the_journal_goes(
    tmp_path: Path, store: RunStore
) -> None:
    run_id = _run(store)
    journal = RunJournal(tmp_path, run_id, store, SERVER, lambda: 777, interval=0.05)
    journal.log_params(run_id, {"lr": 0.1})
    journal.log_params(run_id, {"lr": 0.1, "depth": 3})  # the same value again is fine
    with pytest.raises(ConflictError, match=r"param 'lr' of run \w+ is already '0\.1'"):
        journal.log_params(run_id, {"lr": 0.2})
    with pytest.raises(UsageError, match="invalid tag name"):
        journal.set_tags(run_id, {"bad'key": 1})
    journal.set_tags(run_id, {"stage": "dev"})
    journal.set_tags(run_id, {"stage": "prod"})
    journal.log_metrics(run_id, _points(0, 500))
    journal.add_data(run_id, "input", [DataLink("data/x.csv", "d" * 64)])
    journal.add_artifact(run_id, Artifact("model", "model", "f" * 64, 12))
    journal.set_sources(run_id, None, "e" * 64)
    journal.end(run_id, RunStatus.FAILED, 3)
    delivered = journal.close()
    assert delivered is not None
    assert delivered.done
    assert (delivered.points, delivered.rejected) == (500, 0)
    view = store.get(run_id)
    assert view.params == {"depth": "3", "lr": "0.1"}
    assert view.tags == {"stage": "prod"}  # in the order they were set
    assert (view.status, view.exit_code, view.end_ms) == (RunStatus.FAILED, 3, 777)
    assert view.environment_id == "e" * 64
    assert view.inputs == (DataLink("data/x.csv", "d" * 64),)
    assert [a.path for a in view.artifacts] == ["model"]
    assert store.count_metric_points(run_id) == 500
    assert journals(tmp_path) == []


def test_a_server_that_is_down_gets_everything_later_once(tmp_path: Path, store: RunStore) -> None:
    run_id = _run(store)
    flaky = Flaky(store, failures=3)
    journal = RunJournal(tmp_path, run_id, flaky, SERVER, lambda: 1, interval=0.02)
    for start in range(0, 5000, 500):
        journal.log_metrics(run_id, _points(start, 500))
    deadline = time.monotonic() + 20
    # The last point lands inside the sender's pass; it clears its failures after the pass.
    while time.monotonic() < deadline and (
        store.count_metric_points(run_id) < 5000 or journal.sender.failures
    ):
        time.sleep(0.05)
    assert journal.sender.failures == 0  # it backed off, came back and caught up
    delivered = journal.close()
    assert delivered is not None
    assert delivered.done
    assert store.count_metric_points(run_id) == 5000
    assert [p.step for p in store.metric_history(run_id, "loss")] == list(range(5000))


def test_a_hanging_server_never_holds_up_the_run_and_sync_delivers_the_rest(
    tmp_path: Path, store: RunStore
) -> None:
    run_id = _run(store)
    hanging = Hanging(store)
    journal = RunJournal(tmp_path, run_id, hanging, SERVER, lambda: 1, interval=0.02)
    started = time.monotonic()
    for start in range(0, 20_000, 1000):
        journal.log_metrics(run_id, _points(start, 1000))
    journal.set_tags(run_id, {"done": "yes"})
    journal.end(run_id, RunStatus.FINISHED)
    assert journal.close(wait=0.3) is None  # the last pass did not end in time
    assert time.monotonic() - started < 5
    hanging.release.set()
    [waiting] = unsent(tmp_path)
    assert (waiting.run_id, waiting.live, waiting.entries) == (run_id, False, 22)

    report = sync_journals(tmp_path, store, SERVER)
    assert report.error is None
    assert report.points == 20_000
    assert store.count_metric_points(run_id) == 20_000
    view = store.get(run_id)
    assert (view.status, view.tags) == (RunStatus.FINISHED, {"done": "yes"})
    assert journals(tmp_path) == []
    assert sync_journals(tmp_path, store, SERVER).delivered == ()


def test_a_journal_sent_again_changes_nothing(tmp_path: Path, store: RunStore) -> None:
    run_id = _run(store)
    journal = RunJournal(tmp_path, run_id, Flaky(store, 10**9), SERVER, lambda: 1, 60)
    journal.log_metrics(run_id, _points(0, 100))
    journal.log_params(run_id, {"lr": 0.1})
    journal.set_tags(run_id, {"stage": "a"})
    journal.set_tags(run_id, {"stage": "b"})
    journal.file.close()  # the process dies with nothing delivered
    kept = journal.path.read_bytes()
    assert sync_journals(tmp_path, store, SERVER).points == 100
    # Delivered, but its removal (or its offset) was lost in a crash: it is all sent again.
    journal.path.write_bytes(kept)
    again = sync_journals(tmp_path, store, SERVER)
    assert (again.points, again.rejected) == (100, 0)
    assert store.count_metric_points(run_id) == 100
    view = store.get(run_id)
    assert (view.params, view.tags) == ({"lr": "0.1"}, {"stage": "b"})


def test_sync_leaves_live_journals_and_other_servers_alone_and_sets_refusals_aside(
    tmp_path: Path, store: RunStore
) -> None:
    ended, running, elsewhere = _run(store), _run(store), _run(store)
    store.log_params(ended, {"lr": 0.2})  # another process logged it first, differently
    down = Flaky(store, 10**9)
    first = RunJournal(tmp_path, ended, down, SERVER, lambda: 1, 60)
    first.log_params(ended, {"lr": 0.1})
    first.log_metrics(ended, _points(0, 10))
    first.file.close()
    live = RunJournal(tmp_path, running, down, SERVER, lambda: 1, 60)
    live.log_metrics(running, _points(0, 10))
    other = RunJournal(tmp_path, elsewhere, down, "http://other", lambda: 1, 60)
    other.log_metrics(elsewhere, _points(0, 10))
    other.file.close()

    report = sync_journals(tmp_path, store, SERVER)
    [delivered] = report.delivered
    assert (delivered.run_id, delivered.points, delivered.rejected) == (ended, 10, 1)
    assert report.live == (running,)
    assert report.other_server == (elsewhere,)
    rejected = Path(f"{first.path}.rejected").read_text()
    assert "param 'lr'" in rejected
    assert store.get(ended).params == {"lr": "0.2"}
    assert store.count_metric_points(running) == 0
    live.file.close()


def test_a_down_server_stops_sync_and_says_what_is_left(tmp_path: Path, store: RunStore) -> None:
    runs = [_run(store) for _ in range(3)]
    for run_id in runs:
        journal = RunJournal(tmp_path, run_id, Flaky(store, 10**9), SERVER, lambda: 1, 60)
        journal.log_metrics(run_id, _points(0, 10))
        journal.file.close()
    report = sync_journals(tmp_path, Flaky(store, 10**9), SERVER)
    assert report.error == "cannot reach the Parity server at http://parity.test"
    assert len(report.delivered) == 1
    assert not report.delivered[0].done
    assert len(report.left) == 2
    assert report.to_dict()["error"] == report.error
    assert len(journals(tmp_path)) == 3


def test_a_long_run_moves_to_a_new_journal_once_the_old_one_is_delivered(
    tmp_path: Path, store: RunStore
) -> None:
    run_id = _run(store)
    journal = RunJournal(tmp_path, run_id, store, SERVER, lambda: 1, 0.01, rotate_bytes=20_000)
    first = journal.path
    for start in range(0, 10_000, 500):
        journal.log_metrics(run_id, _points(start, 500))  # about 15 kB a line
        journal.set_tags(run_id, {"at": start})
        time.sleep(0.03)
    deadline = time.monotonic() + 10
    while journal.path == first and time.monotonic() < deadline:
        time.sleep(0.01)
    assert journal.path != first
    assert not first.exists()
    assert len(journals(tmp_path)) == 1  # never more than the one being written
    delivered = journal.close()
    assert delivered is not None
    assert delivered.done
    assert delivered.points == 10_000
    assert store.count_metric_points(run_id) == 10_000
    assert [p.step for p in store.metric_history(run_id, "loss")] == list(range(10_000))
    assert store.get(run_id).tags == {"at": "9500"}
    assert journals(tmp_path) == []


def test_sync_passes_over_a_file_that_is_no_journal(tmp_path: Path, store: RunStore) -> None:
    (tmp_path / "stray.jsonl").write_text("hello\n")
    report = sync_journals(tmp_path, store, SERVER)
    assert report.unreadable == (str(tmp_path / "stray.jsonl"),)
    assert report.delivered == ()
