"""`parity serve` of a model loaded by reference from a team server, and `parity monitor drift`
over the predictions it sent back: real processes, a server on PostgreSQL and S3 (moto).

Needs the server's object store and record index (the objects/data routes) and its run store
(the tracking routes) besides the registry's and monitoring's: the model, its files, its
environment and its run all come from the server.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from parity.monitor.logged import MonitorStore
from tests.server._team import Team, team, train

pytestmark = pytest.mark.postgres


@pytest.fixture
def members(tmp_path: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str) -> Iterator[Team]:
    with team(tmp_path, postgres_url, s3_bucket, s3_endpoint) as made:
        yield made


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def _serving(members: Team, reference: str, *options: str) -> Iterator[str]:
    """``parity serve`` in team mode on a free port; yields its URL once it is ready."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    env.update(members.environ())
    process = subprocess.Popen(
        [sys.executable, "-m", "parity", "serve", reference, "--port", str(port), *options],
        cwd=members.client,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, "parity serve did not get ready in 90 s"
            try:
                if httpx.get(f"{base}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def _logged_rows(members: Team, expected: int) -> int:
    """How many predictions of churn the server holds, once ``expected`` arrived (or 30 s)."""
    with members.served_workspace() as served:
        store = MonitorStore(served.meta)
        deadline = time.monotonic() + 30
        while True:
            count = len(store.logged_inputs("churn", 1))
            if count >= expected or time.monotonic() > deadline:
                return count
            time.sleep(0.2)


def test_a_model_served_by_reference_from_the_server_logs_to_it_and_drift_is_found(
    members: Team, breast_cancer: tuple[Any, Any]
) -> None:
    model, features = breast_cancer
    table = members.client / "data" / "train.csv"
    table.parent.mkdir()
    features.to_csv(table, index=False)
    run_id = train(members, model, features, table)
    registered = members.parity("models", "register", run_id, "--name", "churn")
    assert registered.returncode == 0, registered.stderr
    aliased = members.parity("models", "alias", "churn/1", "production", "-r", "release")
    assert aliased.returncode == 0, aliased.stderr

    rng = np.random.default_rng(5)
    shifted = features.iloc[rng.integers(0, len(features), 1_000)].reset_index(drop=True)
    shifted["mean radius"] += 0.5 * features["mean radius"].std()
    with _serving(members, "churn@production", "--log-sample", "1.0") as base:
        split = {"columns": list(features.columns), "data": features.iloc[:10].values.tolist()}
        answer = httpx.post(f"{base}/invocations", json={"dataframe_split": split}, timeout=30)
        assert answer.status_code == 200, answer.text
        assert answer.json()["predictions"] == model.predict(features.iloc[:10]).tolist()
        metadata = httpx.get(f"{base}/metadata", timeout=10).json()
        assert (metadata["model"], metadata["version"], metadata["run_id"]) == ("churn", 1, run_id)
        assert metadata["verified"] is True
        for start in range(0, len(shifted), 200):
            rows = shifted.iloc[start : start + 200].to_dict(orient="records")
            assert httpx.post(f"{base}/predict", json=rows, timeout=30).status_code == 200
        assert _logged_rows(members, 1_010) == 1_010  # sent to the server while serving

    drift = members.parity("monitor", "drift", "churn@production", "--json")
    assert drift.returncode == 1, drift.stderr
    report = json.loads(drift.stdout)
    assert report["drifted"] == ["mean radius"]
    assert report["rows"] == 1_010
    assert json.loads(drift.stderr)["error"] == "input drift in mean radius"


def test_labels_sent_to_a_model_served_from_the_server_are_kept_there_and_judge_it(
    members: Team, breast_cancer: tuple[Any, Any]
) -> None:
    from parity.api import runs

    model, features = breast_cancer
    with (
        members.workspace() as workspace,
        runs.start(experiment="churn", workspace=workspace) as run,
    ):
        run.log_metric("val_accuracy", 0.97)
        run.log_model(model, input_example=features, registered_model_name="churn")
    truth = model.predict(features.iloc[:200]).tolist()
    answered: list[tuple[str, int]] = []
    with _serving(members, "churn/1", "--log-sample", "1.0") as base:
        for start in range(0, 200, 40):
            rows = features.iloc[start : start + 40].to_dict(orient="records")
            answer = httpx.post(f"{base}/predict", json=rows, timeout=30)
            assert answer.status_code == 200, answer.text
            answered.extend((answer.headers["X-Request-Id"], row) for row in range(40))
        columns = {
            "request_id": [request_id for request_id, _ in answered],
            "row": [row for _, row in answered],
            "label": truth,
        }
        kept = httpx.post(f"{base}/feedback", json=columns, timeout=30)
        assert kept.status_code == 200, kept.text
        assert kept.json() == {
            "model": "churn/1",
            "received": 200,
            "stored": 200,
            "unknown": 0,
            "unknown_ids": [],
            "ambiguous": 0,
            "ambiguous_ids": [],
        }
        good = members.parity("monitor", "performance", "churn/1", "--json")
        assert good.returncode == 0, good.stderr
        assert json.loads(good.stdout)["windows"][0]["metrics"][0]["served"] == 1.0
        flipped = {**columns, "label": [1 - y if i % 10 < 3 else y for i, y in enumerate(truth)]}
        assert httpx.post(f"{base}/feedback", json=flipped, timeout=30).json()["stored"] == 200
    bad = members.parity("monitor", "performance", "churn/1")
    assert bad.returncode == 1
    assert "performance degraded: accuracy" in bad.stderr
    shown = members.parity("models", "show", "churn/1")
    assert "performance  degraded over 200 labels" in shown.stdout
    with members.served_workspace() as served:  # kept by the server, with the version
        history = MonitorStore(served.meta).performance_history("churn", 1)
    assert [c["status"] for c in history] == ["ok", "degraded"]
