"""Request ids on every prediction answer, and ``POST /feedback``: labels joined to the logged
rows by request id, the unknown ones counted and named, bad bodies refused with a clear 4xx."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from parity.api import serving as api_serving
from parity.monitor.logged import MonitorStore
from parity.serve import feedback
from parity.serve.app import create_app
from parity.serve.state import Readiness, ServingState
from parity.workspace import Workspace

ROW = [2.0] * 30


@pytest.fixture
def state(served_workspace: Workspace) -> Iterator[ServingState]:
    serving = api_serving.load(
        "bc@production", readiness=Readiness(True), sample_rate=1.0, workspace=served_workspace
    )
    yield serving
    serving.close()


@pytest.fixture
def client(state: ServingState) -> TestClient:
    return TestClient(create_app(state))


def _predict(client: TestClient, state: ServingState, rows: int = 1, **headers: str) -> str:
    answer = client.post(
        "/predict",
        json={"columns": list(state.decoder.columns), "data": [ROW] * rows},
        headers=headers,
    )
    assert answer.status_code == 200, answer.text
    return answer.headers["X-Request-Id"]


def test_every_answer_carries_a_request_id_and_a_sane_one_from_the_client_is_kept(
    client: TestClient, state: ServingState
) -> None:
    made = {_predict(client, state) for _ in range(3)}
    assert len(made) == 3
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in made)
    assert _predict(client, state, **{"X-Request-Id": "order-17:a.b_c"}) == "order-17:a.b_c"
    # Too long, or with characters unsafe in a header or a file, is replaced by a new one.
    for insane in ("x" * 65, "a b", "../etc", "-leading-dash"):
        kept = _predict(client, state, **{"X-Request-Id": insane})
        assert kept != insane
        assert len(kept) == 32
    # A refused request carries one too.
    refused = client.post("/predict", content=b"{", headers={"X-Request-Id": "bad-1"})
    assert refused.status_code == 400
    assert refused.headers["X-Request-Id"] == "bad-1"


def test_oip_echoes_its_id_and_logs_it_as_the_request_id(
    client: TestClient, state: ServingState, served_workspace: Workspace
) -> None:
    inputs = [
        {"name": name, "shape": [1], "datatype": "FP64", "data": [2.0]}
        for name in state.decoder.columns
    ]
    answer = client.post("/v2/models/bc/infer", json={"id": "oip-42", "inputs": inputs})
    assert answer.status_code == 200, answer.text
    assert answer.json()["id"] == "oip-42"
    assert answer.headers["X-Request-Id"] == "oip-42"
    assert state.log is not None
    state.log.flush()
    store = served_workspace.monitoring  # where the server's log writes
    assert isinstance(store, MonitorStore)
    page, _ = store.logged_page("bc")
    assert [(r.request_id, r.row) for r in page] == [("oip-42", 0)]


def test_labels_join_the_logged_rows_and_unknown_ids_are_counted_and_named(
    client: TestClient, state: ServingState, served_workspace: Workspace
) -> None:
    single = _predict(client, state)
    triple = _predict(client, state, rows=3)
    sent = [
        {"request_id": single, "label": 1},
        {"request_id": triple, "row": 2, "label": 0},
        {"request_id": "never-served", "label": 1},
        {"request_id": triple, "row": 7, "label": 1},  # the request held 3 rows
    ]
    answer = client.post("/feedback", json=sent)  # the log is not flushed yet: /feedback does it
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "model": "bc/1",
        "received": 4,
        "stored": 2,
        "unknown": 2,
        "unknown_ids": ["never-served", f"{triple}#7"],
        "ambiguous": 0,
        "ambiguous_ids": [],
        "hint": "A model server logs only a sample of its requests, and a label can join only"
        " a logged one (parity serve --log-sample 1.0 logs every request).",
    }
    assert state.log is not None
    store = served_workspace.monitoring  # where the server's log writes
    assert isinstance(store, MonitorStore)
    joined = store.labelled_predictions("bc", 1)
    assert sorted((p.request_id, p.row, p.label) for p in joined) == sorted(
        [(single, 0, 1), (triple, 2, 0)]
    )
    # Columns work too, and a label sent again replaces the one kept.
    again = client.post("/feedback", json={"request_id": [single], "label": [0]})
    assert again.json()["stored"] == 1
    assert {p.label for p in store.labelled_predictions("bc", 1) if p.row == 0} == {0}


def test_one_label_joins_one_prediction_even_when_a_client_reuses_its_request_id(
    client: TestClient, state: ServingState, served_workspace: Workspace
) -> None:
    first = _predict(client, state, **{"X-Request-Id": "once-1"})
    assert client.post("/feedback", json=[{"request_id": first, "label": 1}]).json()["stored"]
    for _ in range(5):
        _predict(client, state, **{"X-Request-Id": "session-1"})
    answer = client.post("/feedback", json=[{"request_id": "session-1", "label": 0}]).json()
    # Which of the five is the label about? None is labelled; the label is counted ambiguous.
    assert (answer["stored"], answer["ambiguous"], answer["ambiguous_ids"]) == (
        0,
        1,
        ["session-1"],
    )
    assert "reused its X-Request-Id" in answer["hint"]
    assert state.log is not None
    store = served_workspace.monitoring  # where the server's log writes
    assert isinstance(store, MonitorStore)
    assert [p.request_id for p in store.labelled_predictions("bc", 1)] == ["once-1"]
    # A label kept before the client reused the id no longer covers the later predictions.
    _predict(client, state, **{"X-Request-Id": "once-1"})
    state.log.flush()
    assert store.labelled_predictions("bc", 1) == []


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[]", 422, "no labels were sent"),
        (b'"labels"', 422, "send a JSON list"),
        (b'[{"request_id": 5, "label": 1}]', 422, "item 0: request_id must be"),
        (b'[{"request_id": "a b", "label": 1}]', 422, "request_id must be"),
        (b'[{"request_id": "abc"}]', 422, "item 0: no label"),
        (b'[{"request_id": "abc", "label": [1, 2]}]', 422, "must be a number, a string"),
        (b'[{"request_id": "abc", "label": null}]', 422, "not NoneType"),
        (b'[{"request_id": "abc", "label": 1, "row": -1}]', 422, "row must be a whole number"),
        (b'[{"request_id": "abc", "label": 1, "weight": 2}]', 422, "unknown field 'weight'"),
        (b'{"request_id": ["a"], "label": [1, 0]}', 422, "differ in length"),
        (
            b'[{"request_id": "a", "label": 1},'
            b' {"request_id": "b", "label": 100000000000000000000}]',
            422,
            "item 1: the label 1e+20 is out of range",
        ),
        (b'[{"request_id": "a", "label": ""}]', 422, "item 0: a text label must be"),
    ],
)
def test_bad_labels_get_a_4xx_saying_what_is_wrong(
    client: TestClient, body: bytes, status: int, message: str
) -> None:
    answer = client.post("/feedback", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]


def test_a_body_over_the_limit_is_413_and_too_many_labels_422(
    client: TestClient, state: ServingState
) -> None:
    huge = b"[" + b" " * feedback.MAX_FEEDBACK_BYTES + b"]"
    answer = client.post("/feedback", content=huge)
    assert answer.status_code == 413
    assert "send the labels in parts" in answer.json()["error"]
    many = [{"request_id": f"r{i}", "label": 1} for i in range(10_001)]
    answer = client.post("/feedback", json=many)
    assert answer.status_code == 422
    assert "send at most 10000" in answer.json()["error"]


def test_a_server_that_logs_nothing_refuses_labels(served_workspace: Workspace) -> None:
    serving = api_serving.load(
        "bc@production", readiness=Readiness(True), sample_rate=0, workspace=served_workspace
    )
    try:
        answer = TestClient(create_app(serving)).post(
            "/feedback", json=[{"request_id": "abc", "label": 1}]
        )
    finally:
        serving.close()
    assert answer.status_code == 409
    assert "keeps no prediction log" in answer.json()["error"]
