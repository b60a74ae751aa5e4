"""Shared fixtures: a clean process environment, workspaces, and real backing services."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import settings

if TYPE_CHECKING:
    from parity.workspace import Workspace

pytest_plugins = ["tests.module_coverage"]

# Two shared cores: a property test must not fail on the clock, only on a counterexample.
settings.register_profile("parity", deadline=None)
settings.load_profile("parity")

_CLEARED_PREFIXES = ("PARITY_", "AWS_")
_CLEARED_NAMES = {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"}
# Read once, before the autouse fixture clears PARITY_* from each test's view.
POSTGRES_URL = os.environ.get("PARITY_TEST_POSTGRES_URL")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell must not change results: clear Parity, AWS and proxy variables."""
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES) or name.upper() in _CLEARED_NAMES:
            monkeypatch.delenv(name, raising=False)


def run_parity(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run the real ``parity`` command in a subprocess."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(_CLEARED_PREFIXES)}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "parity", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def workspace_dir(tmp_path: Path) -> Path:
    from parity.workspace import init_workspace

    root = tmp_path / "project"
    root.mkdir()
    workspace, _ = init_workspace(root)
    workspace.close()
    return root


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 endpoint for the whole session: moto's threaded server on loopback."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket on the moto server; returns its s3:// URL with a prefix."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    bucket = f"parity-{uuid.uuid4().hex[:12]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    return f"s3://{bucket}/store"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh schema in the real PostgreSQL; skipped outside CI when none is configured."""
    if not POSTGRES_URL:
        if IN_CI:
            pytest.fail("CI must set PARITY_TEST_POSTGRES_URL: the PostgreSQL tests may not skip")
        pytest.skip("PARITY_TEST_POSTGRES_URL is not set (CI sets it; see .ci/run)")
    import sqlalchemy as sa

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A metadata-store URL: a SQLite file, then a fresh schema in the real PostgreSQL.

    Every test that takes it runs on both backends (the PostgreSQL half skips only outside CI).
    """
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'parity.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


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
    from parity.api import models
    from parity.workspace import open_workspace

    model, features = breast_cancer
    workspace = open_workspace(workspace_dir, environ={})
    model_id, _ = models.save(model, input_example=features, workspace=workspace)
    actor = workspace.actor()
    workspace.registry.register("bc", model_id, actor)
    workspace.registry.set_alias("bc", 1, "production", actor, reason="test")
    yield workspace
    workspace.close()
