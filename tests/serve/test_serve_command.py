"""`parity serve` as a real process on a loopback port."""

from __future__ import annotations

import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from parity.workspace import Workspace


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextmanager
def _serving(workspace: Workspace, *options: str) -> Iterator[str]:
    """Start ``parity serve`` on a free port; yields its base URL once it is ready."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARITY_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "parity", "serve", "bc@production", "--port", str(port), *options],
        cwd=workspace.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = _get(f"{base}/v2/health/ready")
                if status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()


def _post(url: str, body: bytes) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _split(rows: Any) -> bytes:
    split = {"columns": list(rows.columns), "data": rows.to_numpy().tolist()}
    return json.dumps({"dataframe_split": split}).encode()


def _serve_and_predict(
    workspace: Workspace, features: Any, *options: str
) -> tuple[list[Any], bytes, dict[str, Any]]:
    """Start ``parity serve``, send 10 rows to /invocations; predictions, /metrics, /metadata."""
    with _serving(workspace, *options) as base:
        status, answer = _post(f"{base}/invocations", _split(features.iloc[:10]))
        assert status == 200, answer
        status, text = _get(f"{base}/metrics")
        assert status == 200
        status, metadata = _get(f"{base}/metadata")
        assert status == 200
        return answer["predictions"], text, json.loads(metadata)


@pytest.mark.slow
def test_serve_answers_predictions_and_metrics(
    served_workspace: Workspace, breast_cancer: tuple[Any, Any]
) -> None:
    model, features = breast_cancer
    predictions, metrics, metadata = _serve_and_predict(served_workspace, features)
    assert predictions == model.predict(features.iloc[:10]).tolist()
    assert b'parity_requests_total{endpoint="invocations",status="200"} 1.0' in metrics
    assert metadata["verified"] is True


@pytest.mark.slow
def test_serve_with_several_workers_checks_in_each_and_answers_the_same(
    served_workspace: Workspace, breast_cancer: tuple[Any, Any]
) -> None:
    # Each worker process loads and checks the model itself; the verdict travels with it.
    model, features = breast_cancer
    predictions, _, metadata = _serve_and_predict(served_workspace, features, "--workers", "2")
    assert predictions == model.predict(features.iloc[:10]).tolist()
    assert metadata["verified"] is True
    assert metadata["ready"] is True


def test_serve_unknown_model_exits_3(workspace_dir: Path) -> None:
    from tests.conftest import run_parity

    result = run_parity("serve", "nope@production", cwd=workspace_dir)
    assert result.returncode == 3
    assert "no model named 'nope'" in result.stderr


@pytest.mark.slow
def test_serve_refuses_a_body_over_max_body_mib(
    served_workspace: Workspace, breast_cancer: tuple[Any, Any]
) -> None:
    _, features = breast_cancer
    one_row, ten_rows = _split(features.iloc[:1]), _split(features.iloc[:10])
    assert len(one_row) < 1024 < len(ten_rows)
    with _serving(served_workspace, "--max-body-mib", str(1024 / 1024 / 1024)) as base:
        status, answer = _post(f"{base}/invocations", ten_rows)
        assert status == 413
        assert answer["message"].startswith("the body is larger than this server takes (1024")
        assert _post(f"{base}/invocations", one_row)[0] == 200


def test_serve_help_shows_the_body_limit_default(tmp_path: Path) -> None:
    from parity.serve.request_body import DEFAULT_MAX_BODY_BYTES
    from tests.conftest import run_parity

    result = run_parity("serve", "--help", cwd=tmp_path)
    assert "--max-body-mib" in result.stdout
    default = DEFAULT_MAX_BODY_BYTES / 1024 / 1024
    assert f"[default: {default}; x>0]" in " ".join(result.stdout.split())


@pytest.mark.slow
def test_serve_says_each_verdict_and_where_it_listens_and_logs_requests(
    served_workspace: Workspace,
) -> None:
    # --port 0: the system picks a free port, so the printed URL is the only way to find it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARITY_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "parity", "serve", "bc@production", "--port", "0", "--access-log"],
        cwd=served_workspace.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # A thread reads stdout, so a server that never says where it listens fails, not hangs.
    printed: queue.Queue[str] = queue.Queue()
    assert process.stdout is not None
    stdout = process.stdout
    threading.Thread(target=lambda: [printed.put(line) for line in stdout], daemon=True).start()
    try:
        lines: list[str] = []
        while not lines or not lines[-1].startswith("serving "):
            lines.append(printed.get(timeout=60).rstrip("\n"))
        assert lines[0].startswith("environment  passed: no high-risk difference"), lines
        assert lines[1].startswith("golden rows  passed: "), lines
        assert "rows re-predicted as recorded" in lines[1]
        ready = re.fullmatch(
            r"serving bc/1 at (http://127\.0\.0\.1:\d+): ready; Ctrl-C stops", lines[2]
        )
        assert ready is not None, lines
        status, _ = _get(f"{ready.group(1)}/health")
        assert status == 200
        assert '"GET /health HTTP/1.1" 200' in printed.get(timeout=10)
    finally:
        process.terminate()
        process.wait(timeout=30)
        for stream in (process.stdout, process.stderr):
            if stream:
                stream.close()


def test_serve_help_shows_the_defaults() -> None:
    from tests.conftest import run_parity

    shown = run_parity("serve", "--help", cwd=Path.cwd())
    assert shown.returncode == 0
    text = " ".join(shown.stdout.split())
    for default in ("default: 127.0.0.1]", "default: 8080]", "default: 1;", "default: 0.1;"):
        assert default in text
    assert "--access-log" in text


class _Echo:
    """Module level, so it pickles: a generic predict() model, kept as a plain pickle."""

    def predict(self, rows: object) -> object:
        return rows


def test_serve_refuses_a_plain_pickle_unless_asked(workspace_dir: Path) -> None:
    """A plain pickle runs any code it names, so a server loads one only when told to."""
    import numpy as np

    from parity.api import models
    from parity.workspace import open_workspace
    from tests.conftest import run_parity

    workspace = open_workspace(workspace_dir, environ={})
    try:
        model_id, _ = models.save(_Echo(), input_example=np.array([[1.0]]), workspace=workspace)
        workspace.registry.register("echo", model_id, workspace.actor())
    finally:
        workspace.close()
    refused = run_parity("serve", "echo/1", "--no-verify-env", "--port", "0", cwd=workspace_dir)
    assert refused.returncode == 2
    assert "plain pickle (flavor pyfunc)" in refused.stderr
    assert "--allow-unrestricted-pickle" in refused.stderr
