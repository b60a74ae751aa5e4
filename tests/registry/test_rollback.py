"""`parity models rollback`: an alias goes back the way it came, one step per rollback,
audited with who and why, through the API and the real command."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from parity.api import models
from parity.core.errors import ConflictError, UsageError
from parity.workspace import Workspace, open_workspace
from tests.conftest import run_parity


class Constant:
    """Module level, so it pickles."""

    def predict(self, rows: object) -> object:
        return np.zeros(len(np.asarray(rows)))


@pytest.fixture
def churn(workspace_dir: Path) -> Iterator[Workspace]:
    """churn/1..4 registered; production moved 1 → 2 → 3."""
    workspace = open_workspace(workspace_dir, environ={})
    model_id, _ = models.save(Constant(), workspace=workspace)
    for _ in range(4):
        models.register(model_id, "churn", workspace=workspace)
    for version in (1, 2, 3):
        models.alias("churn", version, "production", reason=f"v{version}", workspace=workspace)
    yield workspace
    workspace.close()


def test_each_rollback_goes_one_step_further_back(churn: Workspace) -> None:
    back = models.rollback("churn", "production", reason="accuracy fell", workspace=churn)
    assert back.version == 2
    again = models.rollback("churn@production", reason="still bad", workspace=churn)
    assert again.version == 1  # not back to 3: a rollback is undone by moving forward
    with pytest.raises(UsageError, match="no version production had before 1"):
        models.rollback("churn", "production", reason="x", workspace=churn)
    trail = [(e.action, e.version, e.reason) for e in models.history("churn", workspace=churn)]
    assert trail[-2:] == [
        ("alias", 2, "rollback: accuracy fell"),
        ("alias", 1, "rollback: still bad"),
    ]


def test_a_move_after_a_rollback_is_a_new_step(churn: Workspace) -> None:
    models.rollback("churn", "production", reason="bad", workspace=churn)  # 3 → 2
    models.alias("churn", 4, "production", reason="fixed", workspace=churn)  # 2 → 4
    assert models.rollback("churn", "production", reason="no", workspace=churn).version == 2


def test_to_names_the_version_and_a_lock_still_holds(churn: Workspace) -> None:
    models.lock("churn", 3, reason="serving", workspace=churn)
    with pytest.raises(ConflictError, match="churn/3 is locked"):
        models.rollback("churn", "production", to=1, reason="x", workspace=churn)
    with pytest.raises(UsageError, match="already names version 3"):
        models.rollback("churn", "production", to=3, reason="x", workspace=churn)
    with pytest.raises(UsageError, match="say why"):
        models.rollback("churn", "production", reason=" ", workspace=churn)


def test_the_command_rolls_back_and_says_where_to(churn: Workspace) -> None:
    done = run_parity("models", "rollback", "churn@production", "-r", "p95 doubled", cwd=churn.root)
    assert done.returncode == 0, done.stderr
    assert "rolled back churn@production → churn/2" in done.stdout
    shown = json.loads(
        run_parity("models", "show", "churn@production", "--json", cwd=churn.root).stdout
    )
    assert shown["version"] == 2
    missing = run_parity("models", "rollback", "churn", "staging", "-r", "x", cwd=churn.root)
    assert missing.returncode == 3
