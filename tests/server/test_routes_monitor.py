"""Monitoring routes on a live server: a model server's prediction batches in, a drift report out,
with the reference profile named by id only (never read as a file on the server)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parity.api import models, monitor
from parity.core.errors import NotFoundError, UsageError
from parity.monitor.remote import RemoteMonitorStore
from parity.store.http.client import ServerClient
from parity.workspace import now_ms, open_workspace
from tests.server.live import TeamServer, team_server


@dataclass(frozen=True)
class Served:
    server: TeamServer
    folder: Path
    profile_id: str
    rows: Any  # the inputs a model server logged: "mean radius" shifted


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, breast_cancer: tuple[Any, Any]
) -> Iterator[Served]:
    model, features = breast_cancer
    folder = tmp_path_factory.mktemp("served")
    with team_server(folder) as server:
        workspace = open_workspace(folder, environ={"PARITY_WORKSPACE": str(folder)})
        try:
            model_id, _ = models.save(model, input_example=features, workspace=workspace)
            workspace.registry.register("bc", model_id, workspace.actor())
            table = folder / "train.csv"
            features.to_csv(table, index=False)
            profile_id = monitor.profile(table, workspace=workspace)
        finally:
            workspace.close()
        rng = np.random.default_rng(3)
        rows = features.iloc[rng.integers(0, len(features), 2_000)].reset_index(drop=True)
        rows["mean radius"] += 0.5 * features["mean radius"].std()
        # Sent as a model server sends its log: batches of sampled predictions.
        with ServerClient(server.url, server.writer) as client:
            log = RemoteMonitorStore(client)
            for start in range(0, len(rows), 500):
                chunk = rows.iloc[start : start + 500].to_numpy().tolist()
                log.append_predictions(
                    [
                        {
                            "time_ms": now_ms(),
                            "model": "bc",
                            "version": 1,
                            "environment_id": None,
                            "data_version": None,
                            "inputs": row,
                            "prediction": 1,
                        }
                        for row in chunk
                    ]
                )
        yield Served(server, folder, profile_id, rows)


@pytest.fixture
def reader(served: Served) -> Iterator[ServerClient]:
    with ServerClient(served.server.url, served.server.reader) as client:
        yield client


def test_a_drift_report_names_the_shifted_feature(served: Served, reader: ServerClient) -> None:
    report = reader.get("/models/bc/versions/1/drift", params={"reference": served.profile_id[:12]})
    assert report["drifted"] == ["mean radius"]
    assert (report["rows"], report["ok"], report["enough_rows"]) == (2_000, False, True)
    with open_workspace(served.folder, environ={"PARITY_WORKSPACE": str(served.folder)}) as ws:
        embedded = monitor.drift("bc/1", reference=served.profile_id, workspace=ws)
    assert [f["psi"] for f in report["features"]] == [f.to_dict()["psi"] for f in embedded.features]


def test_the_logged_rows_come_back_a_page_at_a_time(served: Served, reader: ServerClient) -> None:
    page = reader.get("/models/bc/predictions", params={"version": 1, "limit": 1_500})
    assert len(page["rows"]) == 1_500
    rest = reader.get("/models/bc/predictions", params={"after": page["next"]})
    assert len(rest["rows"]) == 500
    assert rest["next"] is None
    assert rest["rows"][-1]["inputs"] == served.rows.iloc[-1].tolist()


def test_too_few_rows_since_a_time_give_no_verdict(served: Served, reader: ServerClient) -> None:
    report = reader.get(
        "/models/bc/versions/1/drift",
        params={"reference": served.profile_id, "since_ms": now_ms() + 60_000},
    )
    assert (report["rows"], report["enough_rows"], report["drifted"]) == (0, False, [])


def test_without_a_linked_training_profile_the_report_says_what_to_pass(
    reader: ServerClient,
) -> None:
    with pytest.raises(UsageError, match="no profiled training data is linked to bc/1"):
        reader.get("/models/bc/versions/1/drift")


def test_a_reference_is_an_id_never_a_file_on_the_server(
    served: Served,
    reader: ServerClient,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    breast_cancer: tuple[Any, Any],
) -> None:
    # A table in the server's working folder, named like an id: the server must not read it.
    monkeypatch.chdir(tmp_path)
    breast_cancer[1].to_csv(tmp_path / "abcd1234", index=False)
    with pytest.raises(NotFoundError, match="abcd1234"):
        reader.get("/models/bc/versions/1/drift", params={"reference": "abcd1234"})
    for hostile in ("../train.csv", "/etc/passwd", "file:///etc/passwd", "train.csv"):
        with pytest.raises(UsageError, match="reference"):
            reader.get("/models/bc/versions/1/drift", params={"reference": hostile})


def test_a_row_too_large_to_log_is_refused(served: Served) -> None:
    from parity.server.routes_monitor import MAX_ROW_BYTES

    wide = {"time_ms": 1, "version": 1, "inputs": ["x" * MAX_ROW_BYTES], "prediction": 1}
    with (
        ServerClient(served.server.url, served.server.writer) as writer,
        pytest.raises(UsageError, match=r"the row is \d+ bytes of JSON"),
    ):
        writer.post("/models/bc/predictions", {"rows": [wide]})


def test_a_page_of_logged_rows_stops_at_its_byte_budget(served: Served) -> None:
    with open_workspace(served.folder, environ={"PARITY_WORKSPACE": str(served.folder)}) as ws:
        store = ws.monitoring
        whole, _ = store.logged_page("bc", limit=100)
        one_row = len(json.dumps(whole[0].inputs)) + len(json.dumps(whole[0].prediction))
        page, following = store.logged_page("bc", limit=100, max_bytes=10 * one_row)
        assert 5 <= len(page) <= 11
        assert following == page[-1].id
        rest, _ = store.logged_page("bc", after=following, limit=100 - len(page))
        assert [r.id for r in page + rest] == [r.id for r in whole]
        # A budget smaller than one row still moves the reader on by one row.
        [single], after_single = store.logged_page("bc", limit=100, max_bytes=1)
        assert (single.id, after_single) == (whole[0].id, whole[0].id)
