from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parity.registry.saving import save_model
from parity.workspace import Workspace, open_workspace


@pytest.fixture(scope="session")
def breast_cancer() -> tuple[Any, Any]:
    """A small scikit-learn model on the breast-cancer table bundled with scikit-learn."""
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = load_breast_cancer(as_frame=True).frame
    features = frame.drop(columns="target")
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
    model.fit(features, frame["target"])
    return model, features


@pytest.fixture
def served_workspace(workspace_dir: Path, breast_cancer: tuple[Any, Any]) -> Iterator[Workspace]:
    """A workspace with the model registered as bc/1 and aliased production."""
    model, features = breast_cancer
    workspace = open_workspace(workspace_dir, environ={})
    model_id, _ = save_model(model, workspace.records, 1, input_example=features)
    actor = workspace.actor()
    workspace.registry.register("bc", model_id, actor)
    workspace.registry.set_alias("bc", 1, "production", actor, reason="test")
    yield workspace
    workspace.close()
