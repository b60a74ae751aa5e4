"""The registry through the real `parity models` command."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from parity.registry.saving import save_model
from parity.workspace import open_workspace
from tests.conftest import run_parity


class Doubler:
    def predict(self, rows: object) -> object:
        return np.asarray(rows)[:, 0] * 2


@pytest.fixture
def model_ids(workspace_dir: Path) -> list[str]:
    workspace = open_workspace(workspace_dir, environ={})
    try:
        rows = np.array([[1.0], [2.0]])
        first, _ = save_model(Doubler(), workspace.records, 1, input_example=rows)
        second, _ = save_model(Doubler(), workspace.records, 2, input_example=rows * 3)
    finally:
        workspace.close()
    return [first, second]


def test_promotion_lock_and_history(workspace_dir: Path, model_ids: list[str]) -> None:
    alice = {"PARITY_USER": "alice"}

    def parity(*args: str, user: dict[str, str] = alice) -> subprocess.CompletedProcess[str]:
        return run_parity(*args, cwd=workspace_dir, env=user)

    for model_id in model_ids:
        result = parity("models", "register", model_id[:10], "--name", "bc")
        assert result.returncode == 0, result.stderr
    assert parity("models", "alias", "bc", "1", "production", "--reason", "launch").returncode == 0
    assert parity("models", "lock", "bc", "1", "--reason", "serving").returncode == 0

    config = workspace_dir / ".parity" / "config.toml"
    config.write_text(config.read_text() + '\n[registry]\nadmins = ["root-admin"]\n')

    moved = parity("models", "alias", "bc", "2", "production", "--reason", "newer")
    assert moved.returncode == 4
    assert "bc/1 is locked: cannot move alias 'production'" in moved.stderr
    not_admin = parity("models", "alias", "bc", "2", "production", "--reason", "x", "--force")
    assert not_admin.returncode == 4
    deleted = parity("models", "delete", "bc", "1")
    assert deleted.returncode == 4

    admin = {"PARITY_USER": "root-admin"}
    forced = parity(
        "models", "alias", "bc", "2", "production", "--reason", "hotfix", "--force", user=admin
    )
    assert forced.returncode == 0, forced.stderr

    shown = json.loads(parity("models", "show", "bc@production", "--json").stdout)
    assert shown["version"] == 2
    assert shown["record"]["flavor"] == "pyfunc"

    history = json.loads(parity("models", "history", "bc", "--json").stdout)
    steps = [(e["action"], e["version"], e["actor"], e["forced"]) for e in history]
    assert steps == [
        ("register", 1, "alice", False),
        ("register", 2, "alice", False),
        ("alias", 1, "alice", False),
        ("lock", 1, "alice", False),
        ("alias", 2, "root-admin", True),
    ]
    table = parity("models", "history", "bc").stdout
    assert "hotfix" in table
    assert "alias (forced)" in table


def test_unknown_model_exits_3(workspace_dir: Path) -> None:
    result = run_parity("models", "show", "nope@production", cwd=workspace_dir)
    assert result.returncode == 3
    assert "no model named 'nope'" in result.stderr


def test_list(workspace_dir: Path, model_ids: list[str]) -> None:
    assert "No registered models yet." in run_parity("models", "list", cwd=workspace_dir).stdout
    run_parity("models", "register", model_ids[0], "--name", "bc", cwd=workspace_dir)
    listed = json.loads(run_parity("models", "list", "--json", cwd=workspace_dir).stdout)
    assert [m["name"] for m in listed] == ["bc"]


def test_locked_version_is_deleted_only_by_an_admin_with_force(
    workspace_dir: Path, model_ids: list[str]
) -> None:
    config = workspace_dir / ".parity" / "config.toml"
    config.write_text(config.read_text() + '\n[registry]\nadmins = ["root-admin"]\n')
    alice, admin = {"PARITY_USER": "alice"}, {"PARITY_USER": "root-admin"}

    def parity(*args: str, user: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return run_parity(*args, cwd=workspace_dir, env=user)

    assert parity("models", "register", model_ids[0], "--name", "bc", user=alice).returncode == 0
    assert parity("models", "lock", "bc", "1", "--reason", "audit", user=alice).returncode == 0
    refused = parity("models", "delete", "bc", "1", "--force", user=alice)
    assert refused.returncode == 4
    assert "only an admin may force" in refused.stderr
    unlock = parity("models", "unlock", "bc", "1", user=alice)
    assert unlock.returncode == 4
    assert "only an admin may unlock bc/1" in unlock.stderr
    deleted = parity("models", "delete", "bc", "1", "--force", "-r", "retired", user=admin)
    assert deleted.returncode == 0, deleted.stderr
    assert parity("models", "show", "bc/1", user=alice).returncode == 3
    history = json.loads(parity("models", "history", "bc", "--json", user=alice).stdout)
    last = history[-1]
    assert (last["action"], last["actor"], last["forced"], last["reason"]) == (
        "delete",
        "root-admin",
        True,
        "retired",
    )
    assert last["before"]["locked"] is True
    assert [e["action"] for e in history] == ["register", "lock", "delete"]
