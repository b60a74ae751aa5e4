"""`parity monitor drift` over what a server logged, against the training table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.testclient import TestClient

from parity.api import serving
from parity.serve.app import create_app
from parity.serve.state import Readiness
from parity.workspace import Workspace
from tests.conftest import run_parity


def _serve_rows(workspace: Workspace, rows: Any) -> None:
    state = serving.load(
        "bc@production", readiness=Readiness(True), sample_rate=1.0, workspace=workspace
    )
    client = TestClient(create_app(state))
    for start in range(0, len(rows), 200):
        chunk = rows.iloc[start : start + 200]
        response = client.post("/predict", json=chunk.to_dict(orient="records"))
        assert response.status_code == 200
    state.close()


@pytest.mark.slow
def test_shift_in_one_feature_is_flagged_by_name(
    served_workspace: Workspace, breast_cancer: tuple[Any, Any], tmp_path: Path
) -> None:
    _, features = breast_cancer
    training = tmp_path / "train.csv"
    features.to_csv(training, index=False)
    rng = np.random.default_rng(3)
    served = features.iloc[rng.integers(0, len(features), 3_000)].reset_index(drop=True)
    served["mean radius"] += 0.5 * features["mean radius"].std()
    _serve_rows(served_workspace, served)

    report_file = tmp_path / "drift.md"
    result = run_parity(
        "monitor",
        "drift",
        "bc@production",
        "--reference",
        str(training),
        "--json",
        "--report",
        str(report_file),
        cwd=served_workspace.root,
    )
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["drifted"] == ["mean radius"]
    assert report["rows"] == 3_000
    assert json.loads(result.stderr)["error"] == "input drift in mean radius"  # --json: JSON
    assert "drift in mean radius" in report_file.read_text()


@pytest.mark.slow
def test_unshifted_traffic_passes_and_too_little_is_no_verdict(
    served_workspace: Workspace, breast_cancer: tuple[Any, Any], tmp_path: Path
) -> None:
    _, features = breast_cancer
    training = tmp_path / "train.csv"
    features.to_csv(training, index=False)
    _serve_rows(served_workspace, features.iloc[:50])
    few = run_parity(
        "monitor", "drift", "bc@production", "--reference", str(training), cwd=served_workspace.root
    )
    assert few.returncode == 0
    assert "at least 100 are needed" in few.stdout
    rng = np.random.default_rng(4)
    _serve_rows(served_workspace, features.iloc[rng.integers(0, len(features), 2_000)])
    ok = run_parity(
        "monitor",
        "drift",
        "bc@production",
        "--reference",
        str(training),
        "--json",
        cwd=served_workspace.root,
    )
    assert ok.returncode == 0, ok.stdout
    assert json.loads(ok.stdout)["drifted"] == []


def test_missing_reference_says_what_to_pass(served_workspace: Workspace) -> None:
    result = run_parity("monitor", "drift", "bc@production", cwd=served_workspace.root)
    assert result.returncode == 2
    assert "pass --reference" in result.stderr
