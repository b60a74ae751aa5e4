"""Triton's own HTTP client (tritonclient) against a live server: the Open Inference Protocol."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

from parity.api import serving
from parity.serve.app import create_app
from parity.serve.state import Readiness, parity_version
from parity.workspace import Workspace
from tests.serve.live import live_server


@pytest.fixture
def client(served_workspace: Workspace) -> Iterator[triton.InferenceServerClient]:
    state = serving.load(
        "bc@production", readiness=Readiness(True), sample_rate=0, workspace=served_workspace
    )
    try:
        with live_server(create_app(state)) as address:
            connection = triton.InferenceServerClient(address)
            yield connection
            connection.close()
    finally:
        state.close()


def _column_inputs(rows: Any, binary: bool) -> list[triton.InferInput]:
    """One FP64 input per column, as the model's metadata lists them."""
    inputs = []
    for name in rows.columns:
        tensor = triton.InferInput(name, [len(rows)], "FP64")
        tensor.set_data_from_numpy(rows[name].to_numpy(dtype=np.float64), binary_data=binary)
        inputs.append(tensor)
    return inputs


def test_health_and_metadata(client: triton.InferenceServerClient) -> None:
    assert client.is_server_live()
    assert client.is_server_ready()
    assert client.get_server_metadata() == {
        "name": "parity",
        "version": parity_version(),
        "extensions": ["binary_tensor_data"],
    }
    metadata = client.get_model_metadata("bc")
    assert client.get_model_metadata("bc", model_version="1") == metadata
    assert metadata["versions"] == ["1"]
    assert len(metadata["inputs"]) == 30
    assert metadata["inputs"][0] == {"name": "mean radius", "datatype": "FP64", "shape": [-1]}
    assert metadata["outputs"] == [{"name": "prediction", "datatype": "INT64", "shape": [-1]}]
    assert client.is_model_ready("bc")
    assert client.is_model_ready("bc", model_version="1")
    assert not client.is_model_ready("bc", model_version="2")
    assert not client.is_model_ready("other")
    with pytest.raises(InferenceServerException, match="no version '2' of 'bc' here"):
        client.get_model_metadata("bc", model_version="2")


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "json"])
@pytest.mark.parametrize("version", ["", "1"], ids=["latest", "version-1"])
def test_infer_per_column(
    client: triton.InferenceServerClient,
    breast_cancer: tuple[Any, Any],
    binary: bool,
    version: str,
) -> None:
    model, features = breast_cancer
    rows = features.iloc[:25]
    result = client.infer(
        "bc",
        _column_inputs(rows, binary),
        model_version=version,
        outputs=[triton.InferRequestedOutput("prediction", binary_data=binary)],
        request_id="req-42",
    )
    assert result.get_response()["id"] == "req-42"
    assert result.get_response()["model_version"] == "1"
    np.testing.assert_array_equal(result.as_numpy("prediction"), model.predict(rows))


def test_infer_with_tritonclient_defaults_binary_in_and_out(
    client: triton.InferenceServerClient, breast_cancer: tuple[Any, Any]
) -> None:
    """No outputs named: tritonclient asks for every output in binary (binary_data_output)."""
    model, features = breast_cancer
    rows = features.iloc[:7]
    matrix = triton.InferInput("x", [7, 30], "FP64")
    matrix.set_data_from_numpy(rows.to_numpy(dtype=np.float64))  # binary by default
    result = client.infer("bc", [matrix], model_version="1")
    output = result.get_output("prediction")
    assert output["parameters"] == {"binary_data_size": 7 * 8}
    assert "id" not in result.get_response()
    np.testing.assert_array_equal(result.as_numpy("prediction"), model.predict(rows))
    # FP32 and INT64 columns are numbers too.
    narrow = triton.InferInput("x", [7, 30], "FP32")
    narrow.set_data_from_numpy(rows.to_numpy(dtype=np.float32))
    assert client.infer("bc", [narrow]).as_numpy("prediction").shape == (7,)


def test_infer_errors_are_400_or_404_with_the_reason(
    client: triton.InferenceServerClient, breast_cancer: tuple[Any, Any]
) -> None:
    _, features = breast_cancer
    rows = features.iloc[:3]
    with pytest.raises(InferenceServerException, match="no output named 'predict'") as refused:
        client.infer(
            "bc", _column_inputs(rows, True), outputs=[triton.InferRequestedOutput("predict")]
        )
    assert refused.value.status() == "400"
    with pytest.raises(InferenceServerException, match="no version '7'") as missing:
        client.infer("bc", _column_inputs(rows, True), model_version="7")
    assert missing.value.status() == "404"
    strings = triton.InferInput("mean radius", [3], "BYTES")
    strings.set_data_from_numpy(np.array([b"1", b"2", b"3"], dtype=object))
    inputs = [strings, *_column_inputs(rows, True)[1:]]
    with pytest.raises(InferenceServerException, match="the column takes a number") as wrong:
        client.infer("bc", inputs)
    assert wrong.value.status() == "400"
