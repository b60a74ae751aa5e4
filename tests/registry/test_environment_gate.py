"""A model refuses to load or serve where its environment differs at high risk.

Venv B has Parity installed with another scikit-learn minor version than the one the model was
trained with here; everything in it runs as a real subprocess.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from parity.workspace import Workspace
from tests.conftest import run_parity
from tests.env.conftest import SKLEARN_B, build_venv

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def venv_b_with_parity(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_venv(
        tmp_path_factory.mktemp("venvs") / "b-parity",
        "-e",
        f"{ROOT}[sklearn,serve]",
        f"scikit-learn=={SKLEARN_B}",
    )


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "AWS_"))}


@pytest.mark.slow
def test_models_verify_names_scikit_learn(
    served_workspace: Workspace, venv_b_with_parity: Path
) -> None:
    here = run_parity("models", "verify", "bc@production", cwd=served_workspace.root)
    assert here.returncode == 0, here.stdout + here.stderr
    assert "bc/1: verified" in here.stdout
    there = run_parity(
        "models",
        "verify",
        "bc@production",
        "--python",
        str(venv_b_with_parity),
        "--json",
        cwd=served_workspace.root,
    )
    assert there.returncode == 1
    report = json.loads(there.stdout)
    high = {d["subject"]: d for d in report["differences"] if d["risk"] == "high"}
    assert high["package scikit-learn"]["actual"] == SKLEARN_B
    # Only what the model needs counts: packages outside its requirements are at most info.
    assert all(s.startswith(("package", "python", "platform")) for s in high)
    assert "package scikit-learn" in there.stderr


LOAD = """
import json, sys, warnings
import parity
from parity.api.models import EnvironmentMismatchWarning
try:
    parity.load_model("bc@production")
except parity.EnvironmentMismatch as exc:
    print(json.dumps({"refused": str(exc), "exit_code": exc.exit_code}))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    model = parity.load_model("bc@production", verify_env=False)
print(json.dumps({
    "warned": [
        str(w.message) for w in caught if issubclass(w.category, EnvironmentMismatchWarning)
    ],
    "predicts": model.predict([[float(i) for i in range(30)]]).tolist() is not None,
}))
"""


@pytest.mark.slow
def test_load_model_refuses_there_and_loads_with_a_warning_when_told(
    served_workspace: Workspace, venv_b_with_parity: Path
) -> None:
    result = subprocess.run(
        [str(venv_b_with_parity), "-W", "ignore::UserWarning:sklearn", "-c", LOAD],
        cwd=served_workspace.root,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    refused, loaded = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    assert "not safe for bc/1" in refused["refused"]
    assert f"scikit-learn 1.9.1 -> {SKLEARN_B} (high)" in refused["refused"]
    assert refused["exit_code"] == 1
    assert any("scikit-learn" in message for message in loaded["warned"])
    assert loaded["predicts"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_refuses_there_unless_told_and_then_says_unverified(
    served_workspace: Workspace, venv_b_with_parity: Path
) -> None:
    parity_b = str(venv_b_with_parity.parent / "parity")
    refused = subprocess.run(
        [parity_b, "serve", "bc@production", "--port", str(_free_port())],
        cwd=served_workspace.root,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert refused.returncode == 1
    assert "refusing to serve bc/1" in refused.stderr
    assert "scikit-learn" in refused.stdout  # the table of differences

    port = _free_port()
    process = subprocess.Popen(
        [parity_b, "serve", "bc@production", "--port", str(port), "--no-verify-env"],
        cwd=served_workspace.root,
        env=_clean_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        metadata: dict[str, Any] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not metadata:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/metadata", timeout=2) as r:
                    metadata = json.loads(r.read())
            except OSError:
                time.sleep(0.2)
        assert metadata["verified"] is False
        assert metadata["environment_verified"] is None
    finally:
        process.terminate()
        process.wait(timeout=30)
        stderr = process.stderr.read() if process.stderr else ""
        if process.stderr:
            process.stderr.close()
    assert "environment verification skipped" in stderr
