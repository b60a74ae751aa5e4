"""``parity serve NAME@ALIAS --follow-alias`` in team mode: the alias read through a Parity
server (PostgreSQL + S3 behind it), moved and rolled back by a team member's CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

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


@pytest.mark.slow
def test_a_team_server_alias_is_followed_through_a_move_and_a_rollback(
    members: Team, breast_cancer: tuple[Any, Any], tmp_path: Path
) -> None:
    from sklearn.base import clone

    model, features = breast_cancer
    rows = features.iloc[:4]
    first = model.predict(rows).tolist()
    flipped = clone(model).fit(features, 1 - model.predict(features))
    assert flipped.predict(rows).tolist() == [1 - p for p in first]
    for fitted in (model, flipped):
        registered = members.parity("models", "register", train(members, fitted, features),
                                    "--name", "churn")  # fmt: skip
        assert registered.returncode == 0, registered.stderr
    aliased = members.parity("models", "alias", "churn/1", "production", "-r", "release")
    assert aliased.returncode == 0, aliased.stderr

    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}
    env.update(members.environ())
    err = (tmp_path / "stderr.txt").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "parity", "serve", "churn@production", "--port", str(port),
         "--follow-alias", "--poll-interval", "1s"],
        cwd=members.client, env=env, stdout=subprocess.DEVNULL, stderr=err, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    statuses: list[int] = []

    def answered_by(client: httpx.Client, version: str, timeout: float = 60) -> list[int]:
        """Predict until ``version`` answers; every answer must be a 200."""
        deadline = time.monotonic() + timeout
        while True:
            answer = client.post("/predict", json=rows.to_dict(orient="records"))
            statuses.append(answer.status_code)
            assert answer.status_code == 200, answer.text
            predictions: list[int] = answer.json()["predictions"]
            assert answer.json()["model"] == answer.headers["x-model-version"]
            if answer.headers["x-model-version"] == version:
                return predictions
            assert time.monotonic() < deadline, f"{version} did not answer within {timeout} s"
            time.sleep(0.05)

    try:
        deadline = time.monotonic() + 90
        while True:
            assert process.poll() is None, (tmp_path / "stderr.txt").read_text()
            assert time.monotonic() < deadline, "parity serve did not get ready in 90 s"
            try:
                if httpx.get(f"{base}/v2/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=30) as client:
            assert answered_by(client, "churn/1", timeout=0) == first
            moved = members.parity("models", "alias", "churn/2", "production", "-r", "v2")
            assert moved.returncode == 0, moved.stderr
            assert answered_by(client, "churn/2") == [1 - p for p in first]
            back = members.parity("models", "rollback", "churn@production", "--reason", "worse")
            assert back.returncode == 0, back.stderr
            assert answered_by(client, "churn/1") == first
            following = client.get("/health").json()["following"]
    finally:
        process.terminate()
        process.wait(timeout=30)
        err.close()
    assert following["switches"] == 2
    assert following["serving"] == "churn/1"
    assert following["problem"] is None
    assert set(statuses) == {200}
