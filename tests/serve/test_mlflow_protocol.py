"""MLflow scoring clients, unchanged: the payloads MLflow documents and the answers its scoring
server (``mlflow models serve``) gives them: ``{"predictions": [...]}``, ``/ping``, ``/version``,
errors as ``{"error_code", "message"}`` with 400 for input it cannot read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from parity.api import serving
from parity.serve.app import create_app
from parity.serve.state import Readiness, parity_version
from parity.workspace import Workspace
from tests.serve.live import live_server


@pytest.fixture
def client(served_workspace: Workspace) -> Iterator[TestClient]:
    state = serving.load(
        "bc@production", readiness=Readiness(True), sample_rate=0, workspace=served_workspace
    )
    yield TestClient(create_app(state))
    state.close()


def _payloads(rows: Any) -> dict[str, tuple[str, bytes | dict[str, Any]]]:
    """Each way MLflow's docs send a frame to /invocations: content type and body."""
    split = rows.to_dict(orient="split")
    return {
        "dataframe_split": ("application/json", {"dataframe_split": split}),
        "dataframe_split without index": (
            "application/json",
            {"dataframe_split": {"columns": split["columns"], "data": split["data"]}},
        ),
        "dataframe_records": (
            "application/json",
            {"dataframe_records": rows.to_dict(orient="records")},
        ),
        "instances": ("application/json", {"instances": rows.to_dict(orient="records")}),
        "inputs as columns": ("application/json", {"inputs": rows.to_dict(orient="list")}),
        "inputs as a tensor": ("application/json", {"inputs": rows.to_numpy().tolist()}),
        "params are ignored": (
            "application/json",
            {"dataframe_split": split, "params": {"temperature": 1}},
        ),
        "csv": ("text/csv", rows.to_csv(index=False).encode()),
        "csv with charset": ("text/csv; charset=utf-8", rows.to_csv(index=False).encode()),
        "csv in another column order": (
            "text/csv",
            rows[rows.columns[::-1]].to_csv(index=False).encode(),
        ),
    }


PAYLOAD_STYLES = [
    "dataframe_split",
    "dataframe_split without index",
    "dataframe_records",
    "instances",
    "inputs as columns",
    "inputs as a tensor",
    "params are ignored",
    "csv",
    "csv with charset",
    "csv in another column order",
]


@pytest.mark.parametrize("style", PAYLOAD_STYLES)
def test_each_documented_payload_gets_mlflows_answer(
    client: TestClient, breast_cancer: tuple[Any, Any], style: str
) -> None:
    model, features = breast_cancer
    rows = features.iloc[:12]
    content_type, body = _payloads(rows)[style]
    content = body if isinstance(body, bytes) else httpx.Request("POST", "/", json=body).content
    response = client.post("/invocations", content=content, headers={"Content-Type": content_type})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"predictions": model.predict(rows).tolist()}


def test_ping_and_version_as_mlflow_answers_them(client: TestClient) -> None:
    ping = client.get("/ping")
    assert (ping.status_code, ping.text, ping.headers["content-type"]) == (
        200,
        "\n",
        "application/json",
    )
    assert client.get("/health").status_code == 200  # MLflow answers /health like /ping
    version = client.get("/version")
    assert (version.status_code, version.text) == (200, parity_version())


def test_what_mlflow_refuses_is_refused_the_same_way(
    client: TestClient, breast_cancer: tuple[Any, Any]
) -> None:
    _, features = breast_cancer
    records = features.iloc[:2].to_dict(orient="records")

    def refused(content: bytes, content_type: str = "application/json") -> tuple[int, Any]:
        response = client.post(
            "/invocations", content=content, headers={"Content-Type": content_type}
        )
        return response.status_code, response.json()

    status, body = refused(b"{not json")
    assert (status, body["error_code"]) == (400, "BAD_REQUEST")
    assert body["message"].startswith("the body is not valid JSON")
    two = httpx.Request("POST", "/", json={"dataframe_records": records, "instances": records})
    assert refused(two.content) == (
        400,
        {
            "error_code": "BAD_REQUEST",
            "message": "an MLflow payload needs exactly one of dataframe_split,"
            " dataframe_records, instances, inputs; it has dataframe_records, instances",
        },
    )
    assert refused(b"[1, 2]")[0] == 400  # MLflow refuses a bare list too
    assert refused(b"a,b\n1,2\n", "text/csv") == (
        400,
        {"error_code": "BAD_REQUEST", "message": "missing column 'mean radius' (and 29 more)"},
    )
    latin = features.iloc[:1].to_csv(index=False).encode()
    assert refused(latin, "text/csv; charset=latin-1") == (
        415,
        {"error_code": "BAD_REQUEST", "message": "the scoring server only takes UTF-8"},
    )


def test_csv_cells_follow_the_column_rules(
    client: TestClient, breast_cancer: tuple[Any, Any]
) -> None:
    _, features = breast_cancer
    text = features.iloc[:2].to_csv(index=False)
    header, first, second = text.splitlines()
    cells = first.split(",")

    def post(csv: str) -> tuple[int, str]:
        response = client.post(
            "/invocations", content=csv.encode(), headers={"Content-Type": "text/csv"}
        )
        return response.status_code, response.json().get("message", "")

    assert post(f"{header}\n{first}\n{second}\n")[0] == 200
    empty = ",".join(["", *cells[1:]])
    assert post(f"{header}\n{empty}\n") == (
        400,
        "column 'mean radius' is null, and the model's signature does not allow nulls in it",
    )
    word = ",".join(["big", *cells[1:]])
    assert post(f"{header}\n{word}\n") == (400, "column 'mean radius' expects a number, got 'big'")
    assert post(f"{header}\n{first},1\n") == (400, "CSV row 1 has 31 cells; the header has 30")
    assert post(header + "\n") == (
        400,
        "a CSV body needs a header row naming the columns, then the rows, one a line"
        " (curl: --data-binary @FILE keeps the line breaks that -d strips)",
    )


def test_mlflow_style_client_over_a_real_socket(
    served_workspace: Workspace, breast_cancer: tuple[Any, Any]
) -> None:
    """What `requests.post(url, json=...)` and a load balancer's /ping probe do, over TCP."""
    model, features = breast_cancer
    rows = features.iloc[:5]
    state = serving.load(
        "bc@production", readiness=Readiness(True), sample_rate=0, workspace=served_workspace
    )
    try:
        with live_server(create_app(state)) as address, httpx.Client() as http:
            base = f"http://{address}"
            assert http.get(f"{base}/ping").status_code == 200
            split = {"dataframe_split": rows.to_dict(orient="split")}
            answer = http.post(f"{base}/invocations", json=split)
            assert answer.json() == {"predictions": model.predict(rows).tolist()}
            csv = http.post(
                f"{base}/invocations",
                content=rows.to_csv(index=False),
                headers={"Content-Type": "text/csv"},
            )
            assert csv.json() == answer.json()
    finally:
        state.close()
