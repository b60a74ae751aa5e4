"""A served model knows the data it was trained on: /metadata and /metrics name the data version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from parity.api import models, runs, serving
from parity.serve.app import create_app
from parity.serve.state import Readiness
from parity.workspace import open_workspace


@pytest.mark.parametrize("direct", [True, False], ids=["sqlite3", "full store"])
def test_served_model_names_its_training_data_version(
    workspace_dir: Path, breast_cancer: tuple[Any, Any], direct: bool
) -> None:
    """Read with the stdlib sqlite3 where the database allows, else through the tracking store
    (a database at another schema, PostgreSQL, a server): the same versions either way."""
    model, features = breast_cancer
    table = workspace_dir / "train.csv"
    features.to_csv(table, index=False)
    workspace = open_workspace(workspace_dir, environ={})
    try:
        with runs.start(experiment="serve", workspace=workspace) as run:
            data_version = run.use_data(table)
            run.log_model(model, input_example=features)
        version = models.register(f"{run.id}:model", "bc", workspace=workspace)
        if not direct:
            workspace.__dict__["direct_sqlite"] = None  # as open_direct_sqlite answers then
        state = serving.load(
            "bc/1",
            readiness=Readiness(environment_verified=True),
            sample_rate=0.0,
            workspace=workspace,
        )
        with TestClient(create_app(state)) as client:
            metadata = client.get("/metadata").json()
            metrics = client.get("/metrics").text
        state.close()
    finally:
        workspace.close()
    assert version.run_id == run.id
    assert metadata["data_versions"] == [data_version]
    assert f'data_version="{data_version}"' in metrics
