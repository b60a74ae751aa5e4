"""Deployment records: what runs where, since when, by whom; shown in models show and lineage;
a server records itself when asked."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from parity.api import deploy, models
from parity.core.errors import UsageError
from parity.deploy.deployments import DeploymentLog
from parity.registry.versions import Actor, Registry
from parity.store.meta import open_metadata_store
from parity.workspace import Workspace
from tests.conftest import run_parity

DIGEST = "sha256:" + "0123456789abcdef" * 4
IMAGE = f"registry.example/bc@{DIGEST}"


def test_record_list_and_show_what_runs_where(trained_workspace: Workspace) -> None:
    root = trained_workspace.root
    done = run_parity(
        "deploy", "record", "bc@production", "--where", "prod-eu", "--image", IMAGE, cwd=root
    )
    assert done.returncode == 0, done.stderr
    assert "bc/1 runs at prod-eu since" in done.stdout
    listed = json.loads(run_parity("deploy", "list", "bc", "--json", cwd=root).stdout)
    assert [(d["where"], d["model"], d["image_digest"]) for d in listed] == [
        ("prod-eu", "bc/1", DIGEST)
    ]
    assert listed[0]["recorded_by"] == trained_workspace.user
    assert listed[0]["source"] == "record"
    every = json.loads(run_parity("deploy", "list", "--all", "--json", cwd=root).stdout)
    assert [d["where"] for d in every] == ["prod-eu"]
    table = run_parity("deploy", "list", cwd=root).stdout
    assert "prod-eu" in table
    assert "bc/1" in table

    shown = run_parity("models", "show", "bc@production", "--json", cwd=root)
    assert [d["where"] for d in json.loads(shown.stdout)["deployments"]] == ["prod-eu"]
    assert "runs at prod-eu since" in run_parity("models", "show", "bc/1", cwd=root).stdout
    assert "bc/1 runs at prod-eu" in run_parity("models", "show", "bc", cwd=root).stdout
    lineage = run_parity("models", "lineage", "bc@production", cwd=root).stdout
    assert "deployed to → deployed at prod-eu since" in lineage
    nodes = models.lineage("bc/1", workspace=trained_workspace).of_kind("deployment")
    assert [n.attributes["image"] for n in nodes] == [IMAGE]


def test_an_image_without_a_digest_is_refused(trained_workspace: Workspace) -> None:
    with pytest.raises(UsageError, match="names no image digest"):
        deploy.record("bc/1", "prod-eu", image="bc:1", workspace=trained_workspace)
    done = run_parity(
        "deploy", "record", "bc/1", "--where", "prod eu", "--image", IMAGE,
        cwd=trained_workspace.root,
    )  # fmt: skip
    assert done.returncode == 2
    assert "cannot name where a model runs" in done.stderr


def test_the_newest_record_of_a_place_is_what_runs_there(database_url: str) -> None:
    meta = open_metadata_store(database_url)
    clock = iter(range(1000, 2000, 10))
    registry = Registry(meta, clock=lambda: next(clock))
    actor = Actor("ci")
    one = registry.register("bc", "a" * 64, actor)
    two = registry.register("bc", "b" * 64, actor)
    log = DeploymentLog(meta, lambda: next(clock))
    first, added = log.record("prod", one, None, IMAGE, "ci", "record")
    assert added
    # A replica restarting records the same thing again: nothing is added.
    same, added_again = log.record("prod", one, None, None, "ci", "serve")
    assert (same, added_again) == (first, False)
    log.record("staging", two, None, IMAGE, "ci", "record")
    log.record("prod", two, "e" * 64, IMAGE, "ci", "record", note="rollout 42")
    now = {(d.place, d.ref) for d in log.current()}
    assert now == {("prod", "bc/2"), ("staging", "bc/2")}
    assert [d.ref for d in log.history(place="prod")] == ["bc/1", "bc/2"]
    assert [d.place for d in log.current("bc", "staging")] == ["staging"]
    assert log.current("other") == []
    meta.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_server_records_itself_once_ready(trained_workspace: Workspace) -> None:
    root: Path = trained_workspace.root
    port = _free_port()
    server = subprocess.Popen(
        [
            sys.executable, "-m", "parity", "serve", "bc@production", "--port", str(port),
            "--record-deployment", "laptop", "--deployment-image", "bc:1",
        ],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.communicate()
            try:
                url = f"http://127.0.0.1:{port}/v2/health/ready"
                with urllib.request.urlopen(url, timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the server was not ready within 60 s"
            time.sleep(0.2)
        found = deploy.list("bc", workspace=trained_workspace)
        assert [(d.place, d.ref, d.image, d.source) for d in found] == [
            ("laptop", "bc/1", "bc:1", "serve")
        ]
    finally:
        server.terminate()
        server.communicate(timeout=30)


def test_a_bare_model_name_is_refused_as_for_any_change(trained_workspace: Workspace) -> None:
    """'the latest' could be a version registered a moment ago, not the one rolled out."""
    with pytest.raises(UsageError, match="names a model, not the version that runs at prod-eu"):
        deploy.record("bc", "prod-eu", image=IMAGE, workspace=trained_workspace)
    assert deploy.list(workspace=trained_workspace) == []
