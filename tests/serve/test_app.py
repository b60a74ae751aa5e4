"""The model server's HTTP contract, in process (Starlette's test client over the real app)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from parity.api import serving as api_serving
from parity.core.model import ArtifactFile
from parity.monitor.logged import MonitorStore
from parity.registry.saving import save_model
from parity.serve.app import create_app
from parity.serve.predictor import Predictor
from parity.serve.state import Readiness, ServingState
from parity.workspace import Workspace


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


def test_all_three_payload_styles_match_local_predictions(
    client: TestClient, breast_cancer: tuple[Any, Any]
) -> None:
    model, features = breast_cancer
    rows = features.iloc[:25]
    local = model.predict(rows).tolist()
    columns = list(rows.columns)
    data = rows.to_numpy().tolist()

    ours = client.post("/predict", json={"records": rows.to_dict(orient="records")})
    assert ours.status_code == 200, ours.text
    assert ours.json()["predictions"] == local

    # Columns in another order are put back into training order.
    shuffled = columns[::-1]
    split = client.post(
        "/invocations",
        json={"dataframe_split": {"columns": shuffled, "data": [r[::-1] for r in data]}},
    )
    assert split.json() == {"predictions": local}

    oip = client.post(
        "/v2/models/bc/infer",
        json={
            "inputs": [
                {
                    "name": "x",
                    "shape": [25, 30],
                    "datatype": "FP64",
                    "data": np.ravel(data).tolist(),
                }
            ]
        },
    )
    assert oip.status_code == 200, oip.text
    assert oip.json()["outputs"][0]["data"] == local
    assert oip.json()["model_version"] == "1"

    records = client.post(
        "/invocations", json={"dataframe_records": rows.to_dict(orient="records")}
    )
    assert records.json()["predictions"] == local
    per_column = client.post(
        "/v2/models/bc/infer",
        json={
            "inputs": [
                {"name": c, "shape": [25], "datatype": "FP64", "data": rows[c].tolist()}
                for c in columns
            ]
        },
    )
    assert per_column.json()["outputs"][0]["data"] == local


def test_bad_payloads_get_4xx_naming_the_column_and_the_server_stays_up(
    client: TestClient, breast_cancer: tuple[Any, Any]
) -> None:
    _, features = breast_cancer
    record = features.iloc[0].to_dict()
    missing = {k: v for k, v in record.items() if k != "mean area"}
    response = client.post("/predict", json=[missing])
    assert response.status_code == 422
    assert "missing column 'mean area'" in response.json()["error"]

    wrong_type = dict(record, **{"worst symmetry": "high"})
    response = client.post("/predict", json=[wrong_type])
    assert response.status_code == 422
    assert response.json()["error"] == "column 'worst symmetry' expects a number, got 'high'"

    response = client.post("/predict", content=b"{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["error"]

    response = client.post("/invocations", json={"nothing": 1})
    assert response.status_code == 400  # MLflow's status for a payload it cannot read
    assert client.post("/v2/models/other/infer", json={}).status_code == 404
    assert client.post("/predict", json=[record]).status_code == 200


def test_health_metadata_and_metrics(client: TestClient, state: ServingState) -> None:
    assert client.get("/health").json() == {"status": "ok", "reasons": [], "model": "bc/1"}
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").status_code == 200
    meta = client.get("/metadata").json()
    assert meta["model"] == "bc"
    assert meta["alias"] == "production"
    assert meta["golden"]["ok"] is True
    assert meta["verified"] is True
    client.post("/predict", json={"columns": list(state.decoder.columns), "data": [[1.0] * 30]})
    text = client.get("/metrics").text
    assert 'parity_requests_total{endpoint="predict",status="200"} 1.0' in text
    assert "parity_request_latency_seconds_bucket" in text
    assert state.record.environment_id
    assert (
        f'parity_model_info{{data_version="",environment_id="{state.record.environment_id}",'
        'model="bc",verified="true",version="1"} 1.0' in text
    )
    assert "parity_model_version 1.0" in text
    assert "parity_model_switches_total 0.0" in text
    described = client.get("/v2/models/bc").json()
    assert described["inputs"][0] == {"name": "mean radius", "datatype": "FP64", "shape": [-1]}


def test_predictions_are_logged_for_monitoring(
    client: TestClient, state: ServingState, served_workspace: Workspace
) -> None:
    client.post("/predict", json={"columns": list(state.decoder.columns), "data": [[2.0] * 30] * 3})
    assert state.log is not None
    state.log.flush()
    store = served_workspace.monitoring  # where the server's log writes
    assert isinstance(store, MonitorStore)
    rows = store.logged_inputs("bc")
    assert rows == [[2.0] * 30] * 3


def test_changed_numerics_keep_the_server_not_ready(
    served_workspace: Workspace, breast_cancer: tuple[Any, Any]
) -> None:
    """A model whose behaviour no longer matches its stored golden predictions is not served."""
    model, features = breast_cancer
    from sklearn.base import clone

    altered = clone(model).fit(features, 1 - model.predict(features))
    _, good = save_model(model, served_workspace.records, 1, input_example=features)
    _, bad = save_model(altered, served_workspace.records, 2, input_example=features)
    # The original golden rows and predictions, with the altered model's files.
    swapped_files = tuple(f for f in bad.files if f.path.startswith("model")) + tuple(
        f for f in good.files if not f.path.startswith("model")
    )
    tampered = dataclasses.replace(good, files=swapped_files)
    tampered_id = served_workspace.records.put(tampered.to_record(), 3)
    served_workspace.registry.register("bc", tampered_id, served_workspace.actor())
    serving = api_serving.load(
        "bc/2", readiness=Readiness(True), sample_rate=0, workspace=served_workspace
    )
    client = TestClient(create_app(serving))
    assert not serving.readiness.ready
    health = client.get("/health")
    assert health.status_code == 503
    assert "golden predictions do not match" in health.json()["reasons"][0]
    assert client.get("/v2/health/ready").status_code == 503
    refused = client.post(
        "/predict", json={"columns": list(serving.decoder.columns), "data": [[1.0] * 30]}
    )
    assert refused.status_code == 503
    assert isinstance(swapped_files[0], ArtifactFile)


def test_the_server_serves_exactly_these_routes(state: ServingState) -> None:
    """Every path and method of the three protocols; one dropped or added fails here."""
    routes = [r for r in create_app(state).routes if isinstance(r, Route)]
    served = sorted((r.path, tuple(sorted(r.methods or ()))) for r in routes)
    get, post = ("GET", "HEAD"), ("POST",)
    assert served == sorted(
        [
            ("/predict", post),
            ("/feedback", post),
            ("/health", get),
            ("/metadata", get),
            ("/metrics", get),
            ("/invocations", post),
            ("/ping", get),
            ("/version", get),
            ("/v2", get),
            ("/v2/models/{model_name}/infer", post),
            ("/v2/models/{model_name}", get),
            ("/v2/models/{model_name}/ready", get),
            ("/v2/models/{model_name}/versions/{version}/infer", post),
            ("/v2/models/{model_name}/versions/{version}", get),
            ("/v2/models/{model_name}/versions/{version}/ready", get),
            ("/v2/health/live", get),
            ("/v2/health/ready", get),
        ]
    )


def test_a_server_not_ready_refuses_every_protocol_alike(served_workspace: Workspace) -> None:
    serving = api_serving.load(
        "bc@production", readiness=Readiness(False), sample_rate=0, workspace=served_workspace
    )
    try:
        client = TestClient(create_app(serving))
        reason = "model is not ready: the environment differs from the model's at high risk"
        mlflow = {"error_code": "TEMPORARILY_UNAVAILABLE", "message": reason}
        for path, error in (
            ("/predict", {"error": reason}),
            ("/invocations", mlflow),  # each protocol's own error document
            ("/v2/models/bc/infer", {"error": reason}),
        ):
            refused = client.post(path, content=b"{not json")  # refused before it is read
            assert (refused.status_code, refused.json()) == (503, error)
        assert (client.get("/ping").status_code, client.get("/ping").json()) == (503, mlflow)
        assert client.get("/v2/models/bc/ready").json() == {"name": "bc", "ready": False}
        # A model this server does not serve is 404 whether or not the server is ready.
        elsewhere = client.post("/v2/models/other/infer", json={})
        assert elsewhere.status_code == 404
        assert elsewhere.json() == {"error": "no model named 'other' here; this server serves 'bc'"}
        assert client.get("/v2/health/ready").json() == {"ready": False}
        text = client.get("/metrics").text
        for endpoint in ("predict", "invocations", "infer"):
            assert f'parity_requests_total{{endpoint="{endpoint}",status="503"}} 1.0' in text
    finally:
        serving.close()


class _Raising:
    """A model whose predict raises ``error``; it takes frames like the real one."""

    def __init__(self, error: Exception, names: Any) -> None:
        self.error, self.feature_names_in_ = error, names

    def predict(self, _rows: Any) -> Any:
        raise self.error


# Where a server prints the overflow warning and goes on to scikit-learn's ValueError, pytest
# would turn the warning itself into the exception.
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_a_model_that_refuses_the_rows_is_a_4xx_and_a_model_failure_a_500(
    state: ServingState, breast_cancer: tuple[Any, Any]
) -> None:
    _, features = breast_cancer
    good = features.iloc[0].to_dict()
    # A value the decoder takes but scaling overflows to infinity: scikit-learn's ValueError.
    huge = dict(good, **{"mean fractal dimension": 1e308})
    client = TestClient(create_app(state))
    response = client.post("/invocations", json={"dataframe_records": [huge]})
    assert response.status_code == 400
    assert response.json()["error_code"] == "BAD_REQUEST"
    assert response.json()["message"].startswith("the model cannot predict these rows: ValueError")
    assert client.post("/predict", json=[huge]).status_code == 422
    text = client.get("/metrics").text
    assert 'parity_prediction_errors_total{kind="model_refused"} 2.0' in text
    assert client.post("/invocations", json={"dataframe_records": [good]}).status_code == 200

    broken = dataclasses.replace(
        state, predictor=Predictor(_Raising(RuntimeError("out of memory\ndetails"), None), ())
    )
    client = TestClient(create_app(broken))
    response = client.post("/invocations", json={"dataframe_records": [good]})
    assert (response.status_code, response.json()) == (
        500,
        {
            "error_code": "INTERNAL_ERROR",
            "message": "the model failed: RuntimeError: out of memory",
        },
    )
    text = client.get("/metrics").text
    assert 'parity_prediction_errors_total{kind="model"} 1.0' in text
    assert 'parity_requests_total{endpoint="invocations",status="500"} 1.0' in text


def test_inference_requests_that_are_not_the_models_input_get_400(client: TestClient) -> None:
    def infer(*tensors: dict[str, Any]) -> tuple[int, Any]:
        response = client.post("/v2/models/bc/infer", json={"inputs": list(tensors)})
        return response.status_code, response.json()

    narrow = {"name": "x", "shape": [1, 29], "datatype": "FP64", "data": [1.0] * 29}
    assert infer(narrow) == (400, {"error": "tensor 'x' must have shape [rows, 30]"})
    brain = dict(narrow, datatype="BF16")
    assert infer(brain) == (400, {"error": "unsupported datatype 'BF16' for input 'x'"})
    assert infer() == (400, {"error": "an inference request needs a non-empty 'inputs' list"})
    one_column = {"name": "mean radius", "shape": [1], "datatype": "FP64", "data": [1.0]}
    assert infer(one_column, one_column) == (
        400,
        {"error": "missing column 'mean texture' (and 28 more)"},
    )
    # Malformed tensors: text, null, ragged rows, a shape the data does not fill.
    for data, error in (
        (["1.5"] * 30, "input 'x' is FP64 but holds \"1.5\""),
        ([None] * 30, "input 'x' is FP64 but holds null"),
        ([[1.0] * 30, [1.0] * 29], "input 'x' has 59 values; its shape holds 60"),
    ):
        shape = [2, 30] if isinstance(data[0], list) else [1, 30]
        tensor = {"name": "x", "shape": shape, "datatype": "FP64", "data": data}
        assert infer(tensor) == (400, {"error": error})
    assert infer(dict(narrow, shape=[2, 30])) == (
        400,
        {"error": "input 'x' has 29 values; its shape holds 60"},
    )
    unknown = client.get("/v2/models/other")
    assert (unknown.status_code, unknown.json()) == (
        404,
        {"error": "no model named 'other' here; this server serves 'bc'"},
    )
