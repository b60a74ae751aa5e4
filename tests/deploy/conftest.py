"""A workspace with a model trained in a tracked run (input data, environment) and registered."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parity.api import runs
from parity.workspace import Workspace, open_workspace


@pytest.fixture
def trained_workspace(workspace_dir: Path, breast_cancer: tuple[Any, Any]) -> Iterator[Workspace]:
    """``bc/1`` (alias production) logged by a run that read data/train.csv."""
    model, features = breast_cancer
    (workspace_dir / "data").mkdir()
    features.head(50).to_csv(workspace_dir / "data" / "train.csv", index=False)
    workspace = open_workspace(workspace_dir, environ={})
    with runs.start(experiment="bc", workspace=workspace) as run:
        run.use_data(workspace_dir / "data" / "train.csv")
        run.log_model(model, input_example=features.head(20), registered_model_name="bc")
    workspace.registry.set_alias("bc", 1, "production", workspace.actor(), reason="test")
    yield workspace
    workspace.close()
