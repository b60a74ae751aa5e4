"""A promotion policy through the real commands of an embedded workspace, with two users (set by
PARITY_USER): production moves only after another user approved and the 'ci' gate passed on the
version; a rollback meets the same policy unless an admin forces; every step is in the trail."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from parity.api import models, runs
from parity.workspace import open_workspace
from tests.conftest import run_parity

POLICY = """\
[gate]
name = "ci"

[[gate.checks]]
kind = "metric"
model = "bc/{version}"
metric = "accuracy"
min = 0.9

[promote.production]
gates = ["ci"]
approvals = 1
"""


class Constant:
    """Module level, so it pickles."""

    def predict(self, rows: object) -> object:
        return np.zeros(len(np.asarray(rows)))


def _register(root: Path, accuracy: float) -> int:
    """A run as alice that logs ``accuracy`` and a model, registered as the next bc version."""
    with open_workspace(root, environ={"PARITY_USER": "alice"}) as workspace:
        with runs.start(experiment="bc", workspace=workspace) as run:
            run.log_metric("accuracy", accuracy)
            run.log_model(Constant(), input_example=np.zeros((2, 3)))
        return models.register(run.id, "bc", workspace=workspace).version


def _as(user: str, root: Path, *args: str) -> Any:
    return run_parity(*args, cwd=root, env={"PARITY_USER": user})


@pytest.fixture
def project(workspace_dir: Path) -> Path:
    # alice and bob are not admins here; root is.
    config = workspace_dir / ".parity" / "config.toml"
    config.write_text(config.read_text() + '\n[registry]\nadmins = ["root"]\n')
    return workspace_dir


def _gate(root: Path, version: int) -> Any:
    (root / "parity.toml").write_text(POLICY.format(version=version))
    return _as("ci-bot", root, "gate", "--model", f"bc/{version}")


def test_production_needs_another_user_s_approval_and_a_passing_gate(project: Path) -> None:
    _register(project, 0.95)
    (project / "parity.toml").write_text(POLICY.format(version=1))

    refused = _as("alice", project, "models", "alias", "bc/1", "production", "-r", "ship it")
    assert refused.returncode == 4, refused.stderr
    assert "bc/1 needs 1 more approval and a passing 'ci' gate verdict" in refused.stderr
    own = _as("alice", project, "models", "approve", "bc/1", "-r", "mine is good")
    assert own.returncode == 4
    assert "alice registered bc/1: approvals must come from others" in own.stderr
    approved = _as("bob", project, "models", "approve", "bc", "1", "-r", "read the report")
    assert approved.returncode == 0, approved.stderr
    assert "approved bc/1" in approved.stdout
    still = _as("alice", project, "models", "alias", "bc/1", "production", "-r", "approved")
    assert still.returncode == 4
    assert "bc/1 needs a passing 'ci' gate verdict" in still.stderr

    gated = _gate(project, 1)
    assert gated.returncode == 0, gated.stderr
    assert "recorded gate 'ci' passed on bc/1" in gated.stderr
    moved = _as("alice", project, "models", "alias", "bc/1", "production", "-r", "green")
    assert moved.returncode == 0, moved.stderr
    assert "bc@production → bc/1" in moved.stdout

    trail = json.loads(_as("bob", project, "models", "history", "bc", "--json").stdout)
    assert [(e["action"], e["actor"], e["reason"]) for e in trail] == [
        ("register", "alice", None),
        ("refused", "alice", "ship it"),
        ("refused", "alice", "mine is good"),
        ("approve", "bob", "read the report"),
        ("refused", "alice", "approved"),
        ("gate", "ci-bot", "1 passed, 0 failed, 0 not evaluated"),
        ("alias", "alice", "green"),
    ]
    shown = _as("bob", project, "models", "history", "bc")
    assert "refused" in shown.stdout
    assert "needs" in shown.stdout


def test_a_failing_gate_is_recorded_and_blocks(project: Path) -> None:
    _register(project, 0.5)
    _as("bob", project, "models", "approve", "bc/1", "-r", "ok")
    failed = _gate(project, 1)
    assert failed.returncode == 1
    assert "recorded gate 'ci' failed on bc/1" in failed.stderr
    refused = _as("alice", project, "models", "alias", "bc/1", "production", "-r", "x")
    assert refused.returncode == 4
    assert "a passing 'ci' gate verdict (the last one failed)" in refused.stderr


def test_a_rollback_meets_the_policy_unless_an_admin_forces(project: Path) -> None:
    _register(project, 0.95)
    _register(project, 0.96)
    (project / "parity.toml").write_text(POLICY.format(version=1))
    # bc/1 went to production by an admin's force, past the policy: audited as forced.
    forced = _as(
        "root", project, "models", "alias", "bc/1", "production", "-r", "bootstrap", "--force"
    )
    assert forced.returncode == 0, forced.stderr
    _as("bob", project, "models", "approve", "bc/2", "-r", "ok")
    assert _gate(project, 2).returncode == 0
    moved = _as("alice", project, "models", "alias", "bc/2", "production", "-r", "v2")
    assert moved.returncode == 0, moved.stderr

    back = _as("alice", project, "models", "rollback", "bc@production", "-r", "p95 doubled")
    assert back.returncode == 4
    assert "cannot move bc@production to bc/1: bc/1 needs 1 more approval" in back.stderr
    not_admin = _as("alice", project, "models", "rollback", "bc@production", "-r", "p95", "--force")
    assert not_admin.returncode == 4
    assert "only an admin may force: move 'production' to bc/1" in not_admin.stderr
    done = _as("root", project, "models", "rollback", "bc@production", "-r", "p95", "--force")
    assert done.returncode == 0, done.stderr
    assert "rolled back bc@production → bc/1" in done.stdout

    trail = json.loads(_as("bob", project, "models", "history", "bc", "--json").stdout)
    moves = [
        (e["action"], e["actor"], e["version"], e["reason"], e["forced"])
        for e in trail
        if e["action"] in ("alias", "refused")
    ]
    assert moves == [
        ("alias", "root", 1, "bootstrap", True),
        ("alias", "alice", 2, "v2", False),
        ("refused", "alice", 1, "rollback: p95 doubled", False),
        ("refused", "alice", 1, "rollback: p95", False),
        ("alias", "root", 1, "rollback: p95", True),
    ]
    assert trail[-1]["after"]["bypassed"].startswith("bc/1 needs 1 more approval")
