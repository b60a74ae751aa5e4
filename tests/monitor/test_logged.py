"""The monitoring store's contract over SQLite, the real PostgreSQL and a Parity server: logged
predictions read back in order and filtered, profiles remembered once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parity.core.errors import AccessDenied, NotFoundError, UsageError
from parity.core.profile import PROFILE_KIND
from parity.monitor import remote
from parity.monitor.logged import MonitorStore
from parity.monitor.remote import RemoteMonitorStore
from parity.monitor.repository import PREDICTION_FIELDS, Monitoring
from parity.store.http.client import ServerClient
from parity.store.meta import open_metadata_store
from parity.workspace import open_workspace
from tests.server.live import TeamServer, team_server

DATA_VERSION = "d" * 64
PROFILE = "c" * 64
OTHER_PROFILE = "e" * 64


def _row(
    time_ms: int, version: int, value: float, request_id: str | None = None, row: int = 0
) -> dict[str, Any]:
    return {
        "time_ms": time_ms,
        "model": "churn",
        "version": version,
        "environment_id": None,
        "data_version": DATA_VERSION,
        "inputs": [value, "a"],
        "prediction": value > 1,
        "request_id": request_id,
        "row": row,
    }


@pytest.fixture
def server(tmp_path: Path) -> Iterator[TeamServer]:
    folder = tmp_path / "served"
    with team_server(folder) as running:
        served = open_workspace(folder, environ={"PARITY_WORKSPACE": str(folder)})
        # A server keeps a profile only when its record is stored (index two), and predictions
        # only of versions its registry has (register churn/1 and churn/2).
        served.meta.index_records([(p, PROFILE_KIND, 0, None) for p in (PROFILE, OTHER_PROFILE)])
        for _ in range(2):
            served.registry.register("churn", "a" * 64, served.actor())
        served.close()
        yield running


@pytest.fixture(params=["sqlite", "postgres", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Monitoring]:
    if request.param == "server":
        running: TeamServer = request.getfixturevalue("server")
        with ServerClient(running.url, running.writer) as client:
            yield RemoteMonitorStore(client)
        return
    url = (
        f"sqlite:///{tmp_path / 'parity.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    meta = open_metadata_store(url)
    yield MonitorStore(meta)
    meta.close()


def test_a_row_carries_every_field_the_protocol_names() -> None:
    assert set(_row(1, 1, 0.0)) == set(PREDICTION_FIELDS)


def test_logged_inputs_come_back_oldest_first_by_version_and_time(store: Monitoring) -> None:
    store.append_predictions([_row(1_000, 1, 0.5), _row(2_000, 1, 1.5)])
    store.append_predictions([_row(3_000, 2, 2.5)])
    assert store.logged_inputs("churn") == [[0.5, "a"], [1.5, "a"], [2.5, "a"]]
    assert store.logged_inputs("churn", version=1) == [[0.5, "a"], [1.5, "a"]]
    assert store.logged_inputs("churn", since_ms=2_000) == [[1.5, "a"], [2.5, "a"]]
    assert store.logged_inputs("churn", version=1, since_ms=1_500) == [[1.5, "a"]]
    assert store.logged_inputs("churn", until_ms=2_000) == [[0.5, "a"]]  # before, not at
    assert store.logged_inputs("churn", since_ms=1_000, until_ms=3_001) == [
        [0.5, "a"], [1.5, "a"], [2.5, "a"],
    ]  # fmt: skip
    assert store.logged_inputs("churn", version=2, since_ms=1_000, until_ms=3_000) == []
    assert store.logged_inputs("ghost") == []
    store.append_predictions([])  # nothing to keep is not an error


def test_many_rows_come_back_over_several_pages(
    store: Monitoring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "PAGE_ROWS", 7)
    store.append_predictions([_row(1_000 + i, 1, float(i)) for i in range(50)])
    assert [row[0] for row in store.logged_inputs("churn")] == [float(i) for i in range(50)]


def test_the_first_profile_of_a_data_version_stays(store: Monitoring) -> None:
    assert store.profile_of(DATA_VERSION) is None
    store.remember_profile(DATA_VERSION, PROFILE, 1)
    store.remember_profile(DATA_VERSION, OTHER_PROFILE, 2)
    assert store.profile_of(DATA_VERSION) == PROFILE
    assert store.profile_of("not-a-data-version") is None


def test_the_server_keeps_only_profiles_it_stores_and_well_formed_rows(
    server: TeamServer,
) -> None:
    with ServerClient(server.url, server.writer) as client:
        store = RemoteMonitorStore(client)
        with pytest.raises(NotFoundError, match="no profile record ffffffffffff"):
            store.remember_profile(DATA_VERSION, "f" * 64, 1)
        with pytest.raises(UsageError, match="rows"):
            client.post("/models/churn/predictions", {"rows": [{"time_ms": 1}]})
        with pytest.raises(UsageError, match="time_ms"):  # a boolean is not a time
            store.append_predictions([{**_row(1, 1, 1.0), "time_ms": True}])
        with pytest.raises(NotFoundError, match="model 'churn' has no version 3"):
            store.append_predictions([_row(1, 1, 1.0), _row(1, 3, 1.0)])
        with pytest.raises(NotFoundError, match="no model named 'other'"):
            store.append_predictions([{**_row(1, 1, 1.0), "model": "other"}])
        with pytest.raises(UsageError, match="name"):
            client.post("/models/-churn/predictions", {"rows": []})
    with ServerClient(server.url, server.reader) as client:
        with pytest.raises(AccessDenied, match="needs the writer role"):
            RemoteMonitorStore(client).append_predictions([_row(1, 1, 1.0)])
        assert RemoteMonitorStore(client).logged_inputs("churn") == []


def test_labels_join_logged_rows_by_request_id_and_row_and_unknown_ones_are_counted(
    store: Monitoring,
) -> None:
    store.append_predictions(
        [_row(1_000, 1, 0.5, "r1"), _row(2_000, 1, 1.5, "r2"), _row(2_000, 1, 2.5, "r2", row=1)]
    )
    store.append_predictions([_row(3_000, 2, 3.5, "r3"), _row(3_500, 2, 4.5)])  # one without id
    receipt = store.store_labels(
        "churn",
        [
            {"request_id": "r1", "row": 0, "label": True},
            {"request_id": "r2", "row": 1, "label": False},
            {"request_id": "r3", "row": 0, "label": "yes"},
            {"request_id": "r2", "row": 5, "label": True},
            {"request_id": "nobody", "row": 0, "label": True},
        ],
        10_000,
    )
    assert (receipt.received, receipt.stored, receipt.unknown) == (5, 3, 2)
    assert sorted(receipt.unknown_ids) == ["nobody", "r2#5"]
    joined = store.labelled_predictions("churn")
    assert [(p.request_id, p.row, p.version, p.prediction, p.label) for p in joined] == [
        ("r1", 0, 1, False, True),
        ("r2", 1, 1, True, False),
        ("r3", 0, 2, True, "yes"),
    ]
    assert [p.request_id for p in store.labelled_predictions("churn", version=1)] == ["r1", "r2"]
    assert [p.request_id for p in store.labelled_predictions("churn", since_ms=2_500)] == ["r3"]
    # Another model's log holds none of these requests; a label sent again replaces the last.
    other = store.store_labels("other", [{"request_id": "r1", "row": 0, "label": 1}], 10_001)
    assert (other.stored, other.unknown) == (0, 1)
    store.store_labels("churn", [{"request_id": "r1", "row": 0, "label": False}], 10_002)
    assert store.labelled_predictions("churn")[0].label is False


def test_many_labelled_rows_come_back_over_several_pages(
    store: Monitoring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(remote, "PAGE_ROWS", 7)
    store.append_predictions([_row(1_000 + i, 1, float(i), f"q{i}") for i in range(50)])
    labels = [{"request_id": f"q{i}", "row": 0, "label": i % 2} for i in range(0, 50, 2)]
    assert store.store_labels("churn", labels, 5_000).stored == 25
    assert [p.request_id for p in store.labelled_predictions("churn")] == [
        f"q{i}" for i in range(0, 50, 2)
    ]


def test_performance_checks_are_kept_with_their_version(store: Monitoring) -> None:
    assert store.performance_history("churn", 1) == []
    store.record_performance("churn", 1, {"status": "ok", "labels": 10}, 1_000)
    store.record_performance("churn", 1, {"status": "degraded", "labels": 20}, 2_000)
    store.record_performance("churn", 2, {"status": "not evaluated", "labels": 0}, 3_000)
    kept = store.performance_history("churn", 1)
    assert [(c["status"], c["labels"]) for c in kept] == [("ok", 10), ("degraded", 20)]
    assert [c["time_ms"] > 0 for c in kept] == [True, True]
    assert [c["status"] for c in store.performance_history("churn", 2)] == ["not evaluated"]


def test_the_server_checks_labels_and_performance_reports(server: TeamServer) -> None:
    with ServerClient(server.url, server.writer) as client:
        for bad in (
            {"labels": []},
            {"labels": [{"request_id": "a b", "label": 1}]},
            {"labels": [{"request_id": "a", "label": [1]}]},
            {"labels": [{"request_id": "a", "label": 1, "extra": 2}]},
        ):
            with pytest.raises(UsageError):
                client.post("/models/churn/labels", bad)
        with pytest.raises(UsageError, match="status must be"):
            client.post("/models/churn/versions/1/performance", {"report": {"status": "great"}})
        with pytest.raises(NotFoundError):
            client.post("/models/churn/versions/9/performance", {"report": {"status": "ok"}})


def test_a_page_of_labelled_predictions_stops_at_its_byte_bound(tmp_path: Path) -> None:
    meta = open_metadata_store(f"sqlite:///{tmp_path / 'parity.db'}")
    try:
        store = MonitorStore(meta)
        store.append_predictions([_row(1_000 + i, 1, float(i), f"b{i}") for i in range(20)])
        store.store_labels(
            "churn", [{"request_id": f"b{i}", "row": 0, "label": "x" * 100} for i in range(20)], 1
        )
        page, following = store.labelled_page("churn", limit=100, max_bytes=5 * 110)
        assert 1 <= len(page) <= 5
        assert following == page[-1].id
        [single], _ = store.labelled_page("churn", limit=100, max_bytes=1)  # always one row
        assert single.request_id == "b0"
        rest, end = store.labelled_page("churn", after=page[-1].id, limit=100)
        assert end is None
        assert len(page) + len(rest) == 20
    finally:
        meta.close()
