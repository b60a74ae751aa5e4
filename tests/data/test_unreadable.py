"""Files and folders the file system will not let Parity read or write: one line naming the
path, exit 5 (an I/O failure) with a hint, never a raw PermissionError, nothing left behind.

Each command runs bound by file modes (``tests.permissions``): as root, without the
capabilities that let root ignore them, so the kernel really refuses.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_parity
from tests.permissions import run_parity_bound_by_modes


def _permission_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 5, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "permission denied" in lines[0], lines[0]
    assert "check its permissions" in lines[0], lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def restore_modes() -> Iterator[list[Path]]:
    """Paths a test takes permissions from, given them back so tmp_path can be removed."""
    changed: list[Path] = []
    yield changed
    for path in changed:
        path.chmod(0o755)


def _temp_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / ".parity" / "objects" / "tmp").iterdir())


def test_a_mode_000_file_inside_a_folder_being_added(
    workspace_dir: Path, restore_modes: list[Path]
) -> None:
    data = workspace_dir / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    locked = data / "locked.csv"
    locked.write_text("secret\n")
    locked.chmod(0o000)
    restore_modes.append(locked)
    result = run_parity_bound_by_modes("data", "add", "data", cwd=workspace_dir)
    _permission_error(result, "data/locked.csv")
    assert not (workspace_dir / "data.parity").exists()
    assert _temp_files(workspace_dir) == []


def test_a_mode_000_folder_inside_a_folder_being_added(
    workspace_dir: Path, restore_modes: list[Path]
) -> None:
    data = workspace_dir / "data"
    (data / "closed").mkdir(parents=True)
    (data / "closed" / "b.txt").write_text("b\n")
    (data / "a.txt").write_text("a\n")
    (data / "closed").chmod(0o000)
    restore_modes.append(data / "closed")
    result = run_parity_bound_by_modes("data", "add", "data", cwd=workspace_dir)
    _permission_error(result, "data/closed")
    assert not (workspace_dir / "data.parity").exists()


def test_a_read_only_checkout_target(workspace_dir: Path, restore_modes: list[Path]) -> None:
    data = workspace_dir / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    assert run_parity("data", "add", "data", cwd=workspace_dir).returncode == 0
    (data / "a.txt").unlink()
    data.chmod(0o555)
    restore_modes.append(data)
    result = run_parity_bound_by_modes("data", "checkout", "data", cwd=workspace_dir)
    _permission_error(result, "data")
    assert list(data.iterdir()) == []  # no temp file left in it


def test_a_read_only_scratch_folder(workspace_dir: Path, restore_modes: list[Path]) -> None:
    (workspace_dir / "a.txt").write_text("a\n")
    scratch = workspace_dir / ".parity" / "objects" / "tmp"
    scratch.chmod(0o555)
    restore_modes.append(scratch)
    result = run_parity_bound_by_modes("data", "add", "a.txt", cwd=workspace_dir)
    _permission_error(result, "objects/tmp")
    assert not (workspace_dir / "a.txt.parity").exists()


def test_an_unreadable_config(workspace_dir: Path, restore_modes: list[Path]) -> None:
    config = workspace_dir / ".parity" / "config.toml"
    config.chmod(0o000)
    restore_modes.append(config)
    for command in (("data", "status"), ("remote", "list"), ("status",)):
        result = run_parity_bound_by_modes(*command, cwd=workspace_dir)
        _permission_error(result, "config.toml")


def test_an_unreadable_object_during_fsck_and_verify(
    workspace_dir: Path, restore_modes: list[Path]
) -> None:
    (workspace_dir / "a.txt").write_text("a\n")
    assert run_parity("data", "add", "a.txt", cwd=workspace_dir).returncode == 0
    objects = workspace_dir / ".parity" / "objects"
    stored = sorted(p for p in objects.glob("??/*") if p.is_file())
    assert stored
    stored[0].chmod(0o000)
    restore_modes.append(stored[0])
    for command in (("data", "fsck"), ("object", "verify")):
        result = run_parity_bound_by_modes(*command, cwd=workspace_dir)
        _permission_error(result, stored[0].parent.name)
