"""What a prediction request may hold: values by the signature's column types, nulls only where
the signature allows them, a body under the limit; and inference off the event loop."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from starlette.testclient import TestClient

from parity.api import serving
from parity.api._serving import OPTIONS_VARIABLE, build, serving_options
from parity.serve.app import create_app
from parity.serve.predictor import Predictor
from parity.serve.request_body import DEFAULT_MAX_BODY_BYTES
from parity.serve.state import Readiness, ServingState
from parity.workspace import Workspace, open_workspace
from tests.serve.live import live_server


@pytest.fixture
def state(served_workspace: Workspace) -> Iterator[ServingState]:
    loaded = serving.load(
        "bc@production", readiness=Readiness(True), sample_rate=0, workspace=served_workspace
    )
    yield loaded
    loaded.close()


@pytest.fixture
def client(state: ServingState) -> TestClient:
    return TestClient(create_app(state))


def test_null_is_a_422_naming_the_column_not_a_model_error(
    client: TestClient, breast_cancer: tuple[Any, Any]
) -> None:
    _, features = breast_cancer
    record = dict(features.iloc[0].to_dict(), **{"mean area": None})
    null = "column 'mean area' is null, and the model's signature does not allow nulls in it"
    for body in (
        [record],
        {"records": [record]},
        {"columns": list(record), "data": [list(record.values())]},
        {name: [value] for name, value in record.items()},
    ):
        response = client.post("/predict", json=body)
        assert (response.status_code, response.json()) == (422, {"error": null})
    mlflow = client.post("/invocations", json={"dataframe_records": [record]})
    assert (mlflow.status_code, mlflow.json()["message"]) == (400, null)
    assert 'kind="model"' not in client.get("/metrics").text


def test_numbers_must_be_numbers(client: TestClient, breast_cancer: tuple[Any, Any]) -> None:
    _, features = breast_cancer
    record = features.iloc[0].to_dict()
    for value, shown in (("14.1", "'14.1'"), (True, "True"), ([1.0], "[1.0]"), ({}, "{}")):
        response = client.post("/predict", json=[dict(record, **{"mean radius": value})])
        assert (response.status_code, response.json()) == (
            422,
            {"error": f"column 'mean radius' expects a number, got {shown}"},
        )
    # Whole numbers are numbers: JSON does not tell 14 from 14.0.
    assert client.post("/predict", json=[dict(record, **{"mean radius": 14})]).status_code == 200
    ragged = {"columns": list(record), "data": [list(record.values()), [1.0]]}
    assert client.post("/predict", json=ragged).json() == {"error": "rows must have 30 values each"}


@pytest.fixture
def mixed(workspace_dir: Path) -> Iterator[tuple[Any, Any, ServingState]]:
    """A model over an integer, a float with missing values, a boolean and a text column."""
    import pandas as pd
    from sklearn.compose import make_column_transformer
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    from parity.api.models import save_model

    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 90, 60),
            "income": np.where(rng.random(60) < 0.2, np.nan, rng.normal(50, 10, 60)),
            "member": rng.random(60) < 0.5,
            "city": rng.choice(["Lyon", "Oslo", "Kyiv"], 60),
        }
    )
    target = np.where(frame["age"] > 50, "senior", "junior")  # text labels: BYTES in OIP
    model = make_pipeline(
        make_column_transformer(
            (OneHotEncoder(handle_unknown="ignore"), ["city"]),
            (SimpleImputer(), ["income"]),
            remainder="passthrough",
        ),
        LogisticRegression(max_iter=500),
    ).fit(frame, target)
    workspace = open_workspace(workspace_dir, environ={})
    model_id, _ = save_model(workspace, model, input_example=frame)
    workspace.registry.register("mixed", model_id, workspace.actor())
    loaded = serving.load("mixed/1", readiness=Readiness(True), sample_rate=0, workspace=workspace)
    yield model, frame, loaded
    loaded.close()
    workspace.close()


def test_each_column_takes_its_own_type_and_null_where_the_signature_allows(
    mixed: tuple[Any, Any, ServingState],
) -> None:
    import pandas as pd

    model, _, state = mixed
    assert [c.nullable for c in state.record.signature.inputs] == [False, True, False, False]
    assert state.readiness.ready  # the golden rows (with their NaN) still pass
    client = TestClient(create_app(state))
    row = {"age": 61, "income": None, "member": True, "city": "Oslo"}
    answer = client.post("/predict", json=[row])
    assert answer.status_code == 200, answer.text
    local = model.predict(pd.DataFrame([dict(row, income=np.nan)]))
    assert answer.json()["predictions"] == local.tolist()
    assert client.post("/predict", json=[dict(row, age=61.0)]).status_code == 200
    for column, value, error in (
        ("age", 61.5, "column 'age' expects a whole number, got 61.5"),
        ("age", "61", "column 'age' expects a whole number, got '61'"),
        ("member", 1, "column 'member' expects true or false, got 1"),
        ("city", 3, "column 'city' expects a string, got 3"),
        ("income", "14.1", "column 'income' expects a number, got '14.1'"),
        (
            "city",
            None,
            "column 'city' is null, and the model's signature does not allow nulls in it",
        ),
    ):
        refused = client.post("/predict", json=[dict(row, **{column: value})])
        assert (refused.status_code, refused.json()) == (422, {"error": error})
    # The Open Inference Protocol: each column's tensor in the datatype its metadata names.
    described = client.get("/v2/models/mixed").json()["inputs"]
    assert [i["datatype"] for i in described] == ["INT64", "FP64", "BOOL", "BYTES"]
    tensors = [
        {"name": "age", "datatype": "INT64", "shape": [1], "data": [61]},
        {"name": "income", "datatype": "FP64", "shape": [1], "data": [52.5]},
        {"name": "member", "datatype": "BOOL", "shape": [1], "data": [True]},
        {"name": "city", "datatype": "BYTES", "shape": [1], "data": ["Oslo"]},
    ]
    inferred = client.post("/v2/models/mixed/infer", json={"inputs": tensors})
    assert inferred.status_code == 200, inferred.text
    local = model.predict(pd.DataFrame([dict(row, income=52.5)]))
    assert inferred.json()["outputs"] == [
        {"name": "prediction", "datatype": "BYTES", "shape": [1], "data": local.tolist()}
    ]
    binary = client.post(
        "/v2/models/mixed/infer",
        json={"inputs": tensors, "parameters": {"binary_data_output": True}},
    )
    header_length = int(binary.headers["Inference-Header-Content-Length"])
    label = local[0].encode()
    assert binary.content[header_length:] == len(label).to_bytes(4, "little") + label
    tensors[2] = dict(tensors[2], datatype="INT64", data=[1])
    wrong = client.post("/v2/models/mixed/infer", json={"inputs": tensors})
    assert wrong.json() == {"error": "tensor 'member' is INT64; the column takes true or false"}


def test_a_body_over_the_limit_is_413_on_every_protocol(state: ServingState) -> None:
    client = TestClient(create_app(state, max_body_bytes=2048))
    body = b'{"records": [' + b" " * 4000 + b"]}"
    expected = (
        "the body is larger than this server takes (2048 bytes); send fewer rows per request,"
        " or start the server with a larger --max-body-mib"
    )
    for path, error in (
        ("/predict", {"error": expected}),
        ("/invocations", {"error_code": "BAD_REQUEST", "message": expected}),
        ("/v2/models/bc/infer", {"error": expected}),
    ):
        declared = client.post(path, content=body)
        assert (declared.status_code, declared.json()) == (413, error)
        chunked = client.post(path, content=iter([body[:1000], body[1000:]]))  # no length given
        assert (chunked.status_code, chunked.json()) == (413, error)
    assert 'parity_prediction_errors_total{kind="too_large"} 6.0' in client.get("/metrics").text
    under = client.post("/predict", content=body[:2000] + b"]}")
    assert under.status_code == 422  # read and parsed: its records are empty


def test_the_default_limit_refuses_a_large_body(client: TestClient) -> None:
    rows = b"[" + b",".join([b"[1.5]"] * (DEFAULT_MAX_BODY_BYTES // 5)) + b"]"
    assert len(rows) > DEFAULT_MAX_BODY_BYTES
    response = client.post("/predict", content=b'{"columns": ["a"], "data": ' + rows + b"}")
    assert response.status_code == 413


def test_the_limit_reaches_every_worker(served_workspace: Workspace) -> None:
    """`parity serve --workers N` hands its options to each worker through one variable."""
    options = serving_options(
        served_workspace.root, "bc@production", Readiness(True), 0.0, max_body_bytes=100
    )
    os.environ[OPTIONS_VARIABLE] = options
    try:
        app = build()
    finally:
        del os.environ[OPTIONS_VARIABLE]
    response = TestClient(app).post("/predict", content=b"[" + b" " * 200 + b"]")
    assert response.status_code == 413
    app.state.serving.close()


class _SlowModel:
    """The real model, held inside predict until the test lets it go."""

    def __init__(self, model: Any) -> None:
        self.model, self.feature_names_in_ = model, model.feature_names_in_
        self.started, self.release = threading.Event(), threading.Event()

    def predict(self, rows: Any) -> Any:
        self.started.set()
        self.release.wait(timeout=10)
        return self.model.predict(rows)


def test_health_answers_while_a_prediction_runs(
    state: ServingState, breast_cancer: tuple[Any, Any]
) -> None:
    model, features = breast_cancer
    slow = _SlowModel(model)
    served = dataclasses.replace(state, predictor=Predictor(slow, state.decoder.columns))
    record = features.iloc[0].to_dict()
    answers: list[httpx.Response] = []
    with live_server(create_app(served)) as address, httpx.Client(timeout=30) as http:
        base = f"http://{address}"
        predicting = threading.Thread(
            target=lambda: answers.append(http.post(f"{base}/predict", json=[record]))
        )
        predicting.start()
        try:
            assert slow.started.wait(timeout=10)
            started = time.perf_counter()
            with httpx.Client(timeout=30) as other:
                health = other.get(f"{base}/health")
                ping = other.get(f"{base}/v2/health/ready")
            waited = time.perf_counter() - started
        finally:
            slow.release.set()
            predicting.join(timeout=30)
    assert (health.status_code, ping.status_code) == (200, 200)
    assert waited < 5, f"health waited {waited:.1f} s behind the prediction"
    assert answers[0].status_code == 200
    assert answers[0].json()["predictions"] == model.predict(features.iloc[:1]).tolist()
