"""A model server's start-up imports what the model and the web stack need, and not the metadata
store's ORM or the commands it does not run: those modules were most of what Parity itself added
to the time before the first prediction."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
from starlette.testclient import TestClient

from parity.api import serving
from parity.workspace import Workspace, open_workspace

# `parity serve` as the command runs it, up to its first prediction: the socket is replaced by a
# test client (so no port is needed), and the prediction log's timer thread is held, so the
# snapshot of sys.modules holds only what the start-up and the first request imported.
FIRST_PREDICTION = """
import json, os, sys
import parity.api.serving as serving
from parity.serve import prediction_log

prediction_log.PredictionLog._run = lambda self: None
body = json.loads(sys.argv[1])

def first_prediction(config, on_listening):
    on_listening("http://testserver")
    from starlette.testclient import TestClient
    with TestClient(config.app) as client:
        answer = client.post("/invocations", json=body)
    print(json.dumps({"status": answer.status_code, "modules": sorted(sys.modules)}))
    sys.stdout.flush()
    os._exit(0)

serving._run = first_prediction
sys.argv = ["parity", "serve", "bc@production", "--port", "0"]
from parity.cli.main import run
run()
"""

# What serving a scikit-learn model never needs before its first answer.
NOT_BEFORE_THE_FIRST_PREDICTION = (
    "sqlalchemy",
    "alembic",
    "fastapi",
    "pydantic",
    "parity.store.meta.store",
    "parity.registry.versions",
    "parity.registry.saving",
    "parity.tracking.store",
    "parity.monitor.logged",
    "parity.events.outbox",
    "parity.api._lineage",
    "parity.api._deployments",
    "parity.api._model_saving",
    "parity.deploy.exports",
    "parity.serve.follow",
    "parity.cli.env_commands",
)


def _request(features: Any) -> dict[str, Any]:
    row = features.iloc[:1]
    return {"dataframe_split": {"columns": list(row.columns), "data": row.to_numpy().tolist()}}


@pytest.mark.slow
def test_serve_answers_its_first_prediction_without_the_orm(
    served_workspace: Workspace, breast_cancer: tuple[Any, Any]
) -> None:
    _, features = breast_cancer
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARITY_")}
    done = subprocess.run(
        [sys.executable, "-c", FIRST_PREDICTION, json.dumps(_request(features))],
        cwd=served_workspace.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    modules = set(answer["modules"])
    assert "sklearn.linear_model" in modules  # the model was loaded for the answer
    assert "parity.registry.reads" in modules  # the registry was read without the ORM
    loaded = [
        name
        for name in modules
        if any(name == top or name.startswith(top + ".") for top in NOT_BEFORE_THE_FIRST_PREDICTION)
    ]
    assert loaded == [], f"imported before the first prediction: {sorted(loaded)}"


def test_the_metadata_store_opens_with_the_first_logged_rows(served_workspace: Workspace) -> None:
    fresh = open_workspace(served_workspace.root, environ={})
    try:
        state = serving.load("bc@production", sample_rate=1.0, workspace=fresh)
        try:
            assert fresh.direct_sqlite is not None
            assert "meta" not in fresh.__dict__  # loading read the registry directly
            assert "monitoring" not in fresh.__dict__
            with TestClient(serving.app(state)) as client:
                columns = list(state.decoder.columns)
                answer = client.post("/predict", json={"columns": columns, "data": [[1.0] * 30]})
            assert answer.status_code == 200
            assert state.log is not None
            assert state.log.flush() == 1
            assert "monitoring" in fresh.__dict__
            assert fresh.monitoring.logged_inputs("bc") == [[1.0] * 30]  # type: ignore[attr-defined]
        finally:
            state.close()
    finally:
        fresh.close()
