"""The exported image context builds into a runnable server without Docker: a venv from the
exported, hashed requirements (what the Dockerfile's pip install does), the Dockerfile's build
step that takes the model in, then the exported entrypoint, serving until /v2/health/ready says
200. Slow: it builds Parity's wheel and two venvs, and looks hashes up on the index."""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from uv import find_uv_bin

ROOT = Path(__file__).resolve().parents[2]
EXTRAS = ("sklearn", "serve", "uv")
TRAIN = """
import pandas as pd, parity
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
frame = load_breast_cancer(as_frame=True).frame
frame.to_csv("train.csv", index=False)
features = frame.drop(columns="target")
model = LogisticRegression(max_iter=2000).fit(features, frame["target"])
with parity.start_run(experiment="bc") as run:
    run.use_data("train.csv")
    run.log_model(model, input_example=features.head(20), registered_model_name="bc")
"""


def _uv(*args: str, cwd: Path = ROOT) -> None:
    done = subprocess.run([find_uv_bin(), *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def _environ(venv: Path, **extra: str) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PARITY_", "VIRTUAL_ENV"))}
    return {**clean, "PATH": f"{venv / 'bin'}{os.pathsep}{clean.get('PATH', '')}", **extra}


def _run(venv: Path, command: str, cwd: Path, **extra: str) -> str:
    done = subprocess.run(
        ["sh", "-c", command], cwd=cwd, env=_environ(venv, **extra), capture_output=True, text=True
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _training_venv(tmp_path: Path, wheels: Path) -> Path:
    """Parity from its wheel with its runtime extras, as uv.lock pins them: no dev tools."""
    requirements = tmp_path / "requirements.txt"
    extras = [option for extra in EXTRAS for option in ("--extra", extra)]
    _uv("build", "--wheel", "--quiet", "--out-dir", str(wheels))
    _uv(
        "export", "--frozen", "--quiet", "--no-dev", "--no-emit-project", "--no-header", *extras,
        "--format", "requirements-txt", "--output-file", str(requirements),
    )  # fmt: skip
    venv = tmp_path / "train-venv"
    _uv("venv", "--quiet", "--python", getattr(sys, "_base_executable", sys.executable), str(venv))
    python = str(venv / "bin" / "python")
    _uv("pip", "sync", "--quiet", "--python", python, "--require-hashes", str(requirements))
    _uv(
        "pip", "install", "--quiet", "--python", python, "--no-deps", "--no-index",
        "--find-links", str(wheels), "parity-ml",
    )  # fmt: skip
    return venv


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=3) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_exported_context_builds_a_server_that_gets_ready(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    train = _training_venv(tmp_path, wheels)
    project = tmp_path / "project"
    project.mkdir()
    _run(train, "parity init", project)
    (project / "train.py").write_text(TRAIN)
    _run(train, "python train.py", project)
    _run(train, "parity models alias bc 1 production --reason test", project)
    context = tmp_path / "context"
    started = time.monotonic()
    exported = _run(
        train,
        f"parity deploy export bc@production --target kubernetes -o {context} "
        f"--wheels {wheels} --image registry.example/bc:1 --json",
        project,
    )
    print(f"deploy export took {time.monotonic() - started:.1f} s")
    assert json.loads(exported)["ok"]

    # The Dockerfile's install: exactly the hashed requirements (and the wheels beside them).
    dockerfile = (context / "Dockerfile").read_text()
    install = "pip install --no-cache-dir --compile --require-hashes --find-links /tmp/wheels"
    assert install in dockerfile
    image = tmp_path / "image-venv"
    _uv("venv", "--quiet", "--python", getattr(sys, "_base_executable", sys.executable), str(image))
    _uv(
        "pip", "install", "--quiet", "--python", str(image / "bin" / "python"), "--require-hashes",
        "--find-links", str(context / "wheels"), "-r", str(context / "requirements.txt"),
    )  # fmt: skip
    # The Dockerfile's build step, as written there, with the image's paths mapped here.
    workspace = tmp_path / "image-home" / "workspace"
    step = dockerfile.split("RUN --mount=type=bind,source=model,target=/mnt/model \\\n", 1)[1]
    step = step.split("\nLABEL", 1)[0].replace("\\\n", " ")
    step = step.replace("/mnt/model", shlex.quote(str(context / "model")))
    step = step.replace("/home/parity/workspace", shlex.quote(str(workspace)))
    assert "parity deploy unpack" in step
    assert "parity models verify bc/1" in step
    _run(image, step, tmp_path, PARITY_WORKSPACE=str(workspace))

    # The exported entrypoint, as the container runs it.
    port = _free_port()
    server = subprocess.Popen(
        [str(context / "entrypoint.sh")],
        cwd=tmp_path,
        env=_environ(image, PARITY_WORKSPACE=str(workspace), PORT=str(port)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, server.communicate()[0]
            try:
                if _get(f"http://127.0.0.1:{port}/v2/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server was not ready within 120 s"
            time.sleep(0.3)
        status, body = _get(f"http://127.0.0.1:{port}/metadata")
        assert status == 200
        metadata = json.loads(body)
        assert metadata["model"] == "bc"
        assert metadata["version"] == 1
        assert metadata["verified"] is True
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "environment  passed" in output, output
