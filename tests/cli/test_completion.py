"""Shell completion: the scripts, and run ids, metrics and model references from the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from parity.workspace import Workspace
from tests.conftest import run_parity


def _complete(cwd: Path, line: str) -> list[str]:
    """What bash is offered for the last word of ``line``, as Click's bash script asks."""
    words = line.split(" ")
    done = run_parity(
        cwd=cwd,
        env={
            "_PARITY_COMPLETE": "bash_complete",
            "COMP_WORDS": line,
            "COMP_CWORD": str(len(words) - 1),
        },
    )
    assert done.returncode == 0, done.stderr
    rows = [row for row in done.stdout.splitlines() if row]  # nothing offered: one empty line
    return [row.split(",", 1)[1] for row in rows]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_prints_the_script_for_a_shell(tmp_path: Path, shell: str) -> None:
    script = run_parity("completion", shell, cwd=tmp_path)
    assert script.returncode == 0, script.stderr
    assert "_PARITY_COMPLETE" in script.stdout
    assert f"{shell}_complete" in script.stdout


def test_run_ids_metrics_and_model_references_complete(served_workspace: Workspace) -> None:
    from parity.api import runs

    with runs.start(experiment="churn", workspace=served_workspace) as run:
        run.log_metric("loss", 0.5, step=0)
        run.log_metric("accuracy", 0.9)
    root = served_workspace.root
    assert _complete(root, "parity runs show ") == [run.id]
    assert _complete(root, f"parity runs show {run.id[:6]}") == [run.id]
    assert _complete(root, "parity runs show fff") == []
    assert _complete(root, f"parity runs history {run.id[:8]} ") == ["accuracy", "loss"]
    assert _complete(root, "parity serve b") == ["bc", "bc@production", "bc/1"]
    assert _complete(root, "parity models lineage bc@") == ["bc@production"]
    assert _complete(root, "parity models history ") == ["bc"]
    assert _complete(root, "parity models lock bc/") == ["bc/1"]
    assert _complete(root, "parity models unalias bc@p") == ["bc@production"]
    assert _complete(root, "parity models register ") == [run.id]
    assert "history" in _complete(root, "parity runs h")


@pytest.mark.slow
def test_outside_a_workspace_nothing_is_offered_and_nothing_fails(tmp_path: Path) -> None:
    assert _complete(tmp_path, "parity runs show ") == []
    assert _complete(tmp_path, "parity serve ") == []
