"""The data commands as a user runs them: output, exit codes, and a lean start-up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_parity


@pytest.mark.slow
def test_status_lists_changes_and_exits_zero(workspace_dir: Path) -> None:
    data = workspace_dir / "data"
    data.mkdir()
    (data / "keep.txt").write_text("same\n")
    (data / "edit.txt").write_text("old\n")
    (data / "gone.txt").write_text("bye\n")
    added = run_parity("data", "add", "data", cwd=workspace_dir)
    assert added.returncode == 0, added.stderr
    assert "new version" in added.stdout
    assert run_parity("data", "status", cwd=workspace_dir).stdout.startswith("data: up to date")

    (data / "edit.txt").write_text("new\n")
    (data / "gone.txt").unlink()
    (data / "new.txt").write_text("hi\n")
    result = run_parity("data", "status", cwd=workspace_dir)
    assert result.returncode == 0
    assert "data: 1 added, 1 modified, 1 deleted" in result.stdout
    assert "  modified: edit.txt" in result.stdout


def test_status_does_not_import_sqlalchemy(workspace_dir: Path) -> None:
    data = workspace_dir / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    assert run_parity("data", "add", "data", cwd=workspace_dir).returncode == 0
    probe = (
        "import sys\nfrom parity.cli.main import main\ncode = main(['data', 'status', '--json'])\n"
        "print(sorted(m for m in ('sqlalchemy', 'pandas', 'boto3') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=workspace_dir, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
    assert json.loads("".join(result.stdout.strip().splitlines()[:-1]))[0]["clean"] is True


def test_usage_errors_are_one_line_with_a_hint(workspace_dir: Path, tmp_path: Path) -> None:
    outside = run_parity("data", "add", str(tmp_path), cwd=workspace_dir)
    assert outside.returncode == 2
    assert "is outside the workspace" in outside.stderr
    missing = run_parity("data", "add", "nope", cwd=workspace_dir)
    assert missing.returncode == 3  # not found, as the README's table of exit codes says
    assert missing.stderr.strip().endswith("/nope does not exist (check the path)")
    assert len(missing.stderr.strip().splitlines()) == 1
    no_history = run_parity("data", "log", "data", cwd=workspace_dir)
    assert no_history.returncode == 3
    assert "git" in no_history.stderr


def test_a_remembered_clean_tree_still_sees_every_change(workspace_dir: Path) -> None:
    import os

    from parity.api import data as data_api
    from parity.api._worktree import stat_cache
    from parity.workspace import open_workspace

    data = workspace_dir / "data"
    data.mkdir()
    for index in range(5):
        (data / f"f{index}.txt").write_text(f"{index}\n")
    old = (1_000_000_000, 1_000_000_000)
    for path in data.iterdir():
        os.utime(path, ns=old)
    assert run_parity("data", "add", "data", cwd=workspace_dir).returncode == 0
    workspace = open_workspace(workspace_dir, environ={})
    try:
        assert data_api.status(workspace=workspace)[
            0
        ].clean  # the full comparison, which is remembered
        cache = stat_cache(workspace)
        pointer_version = data_api.status(workspace=workspace)[0].data_version
        assert pointer_version is not None
        assert cache.clean_tree("data", pointer_version) is not None
        cache.close()

        (data / "f1.txt").write_text("9\n")  # same size, new content and mtime
        (data / "f2.txt").unlink()
        (data / "new.txt").write_text("new\n")
        changed = data_api.status(workspace=workspace)[0]
    finally:
        workspace.close()
    assert changed.modified == ("f1.txt",)
    assert changed.deleted == ("f2.txt",)
    assert changed.added == ("new.txt",)


def test_sizes_are_binary_units_in_summaries_and_progress_bars(
    workspace_dir: Path, tmp_path: Path
) -> None:
    import io
    import os

    from rich.console import Console

    from parity.cli.data_commands import progress_bar

    (workspace_dir / "weights.bin").write_bytes(os.urandom(3 << 20))  # incompressible
    assert run_parity("data", "add", "weights.bin", cwd=workspace_dir).returncode == 0
    remote = str(tmp_path / "remote")
    assert run_parity("remote", "add", "r", remote, "--default", cwd=workspace_dir).returncode == 0
    pushed = run_parity("data", "push", cwd=workspace_dir)
    assert pushed.returncode == 0, pushed.stderr
    assert "objects (3.0 MiB) of 1 data versions" in pushed.stdout

    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=120)
    with progress_bar("adding", console=terminal, delay=0) as update:
        update(3 << 20, 6 << 20)
    assert "3.0/6.0 MiB" in screen.getvalue()
    assert " MB" not in screen.getvalue()


def test_history_is_the_word_and_log_still_works(workspace_dir: Path) -> None:
    helped = run_parity("data", "--help", cwd=workspace_dir).stdout
    assert "  history " in helped
    assert "  log " not in helped
    for word in ("history", "log"):
        outside_git = run_parity("data", word, "data", cwd=workspace_dir)
        assert outside_git.returncode == 3
        assert "git" in outside_git.stderr
