"""Generated request bodies on every endpoint: never a 5xx, always a JSON answer.

Bodies range from arbitrary bytes to near-valid payloads of each protocol with one part
changed (a value's type, a shape, a datatype, a binary tail), since those reach furthest in.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from parity.api import serving
from parity.serve.app import create_app
from parity.serve.oip_tensors import DATATYPES, HEADER_LENGTH
from parity.serve.state import Readiness
from parity.workspace import Workspace

pytestmark = [
    # A huge value overflows in the model's scaler: a server prints NumPy's warning and gets
    # scikit-learn's ValueError (a 4xx); pytest would raise the warning instead.
    pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning"),
]
FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
POSTS = (
    "/predict",
    "/invocations",
    "/v2/models/bc/infer",
    "/v2/models/bc/versions/1/infer",
)
GETS = (
    "/health",
    "/metadata",
    "/metrics",
    "/ping",
    "/version",
    "/v2",
    "/v2/health/live",
    "/v2/health/ready",
    "/v2/models/bc",
    "/v2/models/bc/ready",
    "/v2/models/bc/versions/1",
    "/v2/models/bc/versions/1/ready",
)


@pytest.fixture
def client(served_workspace: Workspace) -> Iterator[TestClient]:
    state = serving.load(
        "bc@production", readiness=Readiness(True), sample_rate=0, workspace=served_workspace
    )
    yield TestClient(create_app(state, max_body_bytes=64 * 1024), raise_server_exceptions=True)
    state.close()


@pytest.fixture
def columns(client: TestClient) -> list[str]:
    return [spec["name"] for spec in client.get("/v2/models/bc").json()["inputs"]]


def _assert_answered(response: Any) -> None:
    event(f"status {response.status_code}")  # --hypothesis-show-statistics: how far bodies got
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert isinstance(orjson.loads(response.content), dict)  # a JSON error, not plain text


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)


# Mostly ordinary numbers, sometimes the extremes of a double.
numbers = st.one_of(
    st.floats(-1e3, 1e3),
    st.integers(-100, 100),
    st.floats(allow_nan=False, allow_infinity=False),
)


@st.composite
def records(draw: st.DrawFn, columns: list[str]) -> dict[str, Any]:
    """A full record of numbers, then at most one change: a value, a missing or extra column."""
    record = {name: draw(numbers) for name in columns}
    change = draw(st.sampled_from(["none", "value", "missing", "extra"]))
    name = draw(st.sampled_from(columns))
    if change == "value":
        record[name] = draw(json_values)
    elif change == "missing":
        del record[name]
    elif change == "extra":
        record[draw(st.text(max_size=6))] = draw(json_values)
    return record


@st.composite
def predict_payloads(draw: st.DrawFn, columns: list[str]) -> Any:
    rows = draw(st.lists(records(columns), min_size=1, max_size=3))
    names = list(rows[0])
    data = [[row.get(name) for name in names] for row in rows]
    return draw(
        st.sampled_from(
            [
                rows,
                {"records": rows},
                {"columns": names, "data": data},
                {name: [row.get(name) for row in rows] for name in names},
                {"dataframe_split": {"columns": names, "data": data}},
                {"dataframe_split": {"data": data}},
                {"dataframe_records": rows},
                {"instances": rows},
                {"inputs": data},
                {"inputs": {name: [row.get(name) for row in rows] for name in names}},
                {"inputs": rows, "instances": rows},
                draw(json_values),
            ]
        )
    )


@st.composite
def tensors(draw: st.DrawFn, columns: list[str]) -> tuple[list[dict[str, Any]], bytes]:
    """Inputs as one [rows, columns] tensor or one per column, in JSON or binary, then at most
    one change: a datatype, a shape, a name, the data or the byte count."""
    rows = draw(st.integers(1, 3))
    datatype = draw(st.sampled_from(["FP64", "FP32", "INT64", "INT8", "UINT16", "BOOL"]))
    numpy_type = {"FP64": "<f8", "FP32": "<f4", "INT64": "<i8", "INT8": "i1", "UINT16": "<u2"}
    if draw(st.booleans()):
        specs = [("x", [rows, len(columns)])]
    else:
        specs = [(name, [rows]) for name in columns]
    inputs, tail = [], b""
    for name, shape in specs:
        count = rows if len(shape) == 1 else rows * len(columns)
        values = draw(st.lists(st.integers(0, 1), min_size=count, max_size=count))
        tensor: dict[str, Any] = {"name": name, "datatype": datatype, "shape": shape}
        if draw(st.booleans()):
            tensor["data"] = [bool(v) for v in values] if datatype == "BOOL" else values
        else:
            raw = np.asarray(values, dtype=numpy_type.get(datatype, "?")).tobytes()
            tensor["parameters"] = {"binary_data_size": len(raw)}
            tail += raw
        inputs.append(tensor)
    change = draw(st.sampled_from(["none", "datatype", "shape", "name", "data", "size", "tail"]))
    target = draw(st.sampled_from(inputs))
    if change == "datatype":
        target["datatype"] = draw(st.one_of(st.sampled_from([*DATATYPES, "BF16"]), json_values))
    elif change == "shape":
        target["shape"] = draw(st.one_of(st.lists(st.integers(-1, 40), max_size=3), json_values))
    elif change == "name":
        target["name"] = draw(json_values)
    elif change == "data":
        target["data"] = draw(st.lists(json_values, max_size=8) | json_values)
    elif change == "size":
        target["parameters"] = {"binary_data_size": draw(st.integers(-2, 300) | scalars)}
    elif change == "tail":
        tail = draw(st.binary(max_size=300))
    return inputs, tail


@st.composite
def inference_requests(draw: st.DrawFn, columns: list[str]) -> tuple[bytes, dict[str, bytes]]:
    inputs, tail = draw(tensors(columns))
    document: dict[str, Any] = {"inputs": inputs}
    if draw(st.booleans()):
        document["id"] = draw(st.one_of(st.text(max_size=8), json_values))
    if draw(st.booleans()):
        names = st.sampled_from(["prediction", "predict"])
        binary = st.one_of(st.booleans(), scalars)
        document["outputs"] = draw(
            st.lists(
                st.fixed_dictionaries(
                    {"name": names},
                    optional={"parameters": st.fixed_dictionaries({"binary_data": binary})},
                ),
                max_size=2,
            )
        )
    if draw(st.booleans()):
        document["parameters"] = {"binary_data_output": draw(st.one_of(st.booleans(), scalars))}
    header = json.dumps(document).encode()  # stdlib: integers past 64 bits too
    if not tail and draw(st.booleans()):
        return header, {}
    length = draw(st.one_of(st.just(str(len(header))), st.text(max_size=4)))
    return header + tail, {HEADER_LENGTH: length.encode()}


@FUZZ
@given(body=st.binary(max_size=2000), path=st.sampled_from(POSTS), data=st.data())
def test_arbitrary_bytes(client: TestClient, body: bytes, path: str, data: st.DataObject) -> None:
    headers: dict[str, str | bytes] = {
        "Content-Type": data.draw(st.sampled_from(["application/json", "text/csv", "x/y"])),
        HEADER_LENGTH: data.draw(st.sampled_from([b"0", b"5", b"99999", b"x", "²".encode()])),
    }
    _assert_answered(client.post(path, content=body, headers=headers))


@pytest.mark.slow
@FUZZ
@given(data=st.data(), path=st.sampled_from(POSTS[:2]))
def test_predict_and_mlflow_payloads(
    client: TestClient, columns: list[str], data: st.DataObject, path: str
) -> None:
    payload = data.draw(predict_payloads(columns))
    _assert_answered(client.post(path, content=json.dumps(payload).encode()))


@FUZZ
@given(data=st.data())
def test_csv_bodies(client: TestClient, columns: list[str], data: st.DataObject) -> None:
    rows = data.draw(st.lists(records(columns), min_size=1, max_size=3))
    header = list(rows[0])
    if data.draw(st.booleans()):
        header = data.draw(st.permutations(header))
    cells = st.one_of(
        st.sampled_from(["", "1.5", "NaN", "true", "1e999", "0x10", "1_0", '"a,b"']), st.text()
    )
    table = [[str(row.get(name, "")) for name in header] for row in rows]
    if data.draw(st.booleans()):  # one cell anything
        table[0][data.draw(st.integers(0, len(header) - 1))] = data.draw(cells)
    text = "\n".join(",".join(row) for row in [header, *table])
    headers = {"Content-Type": "text/csv"}
    _assert_answered(client.post("/invocations", content=text.encode(), headers=headers))


@FUZZ
@given(data=st.data(), path=st.sampled_from(POSTS[2:]))
def test_inference_requests(
    client: TestClient, columns: list[str], data: st.DataObject, path: str
) -> None:
    body, headers = data.draw(inference_requests(columns))
    _assert_answered(client.post(path, content=body, headers=headers))


@settings(FUZZ, max_examples=40)
@given(body=st.binary(max_size=200), path=st.sampled_from(GETS))
def test_reads_ignore_a_body(client: TestClient, body: bytes, path: str) -> None:
    response = client.request("GET", path, content=body)
    assert response.status_code == 200, response.text
