"""Hostile or broken input to the data commands: one line, a hint, the documented exit code,
never a traceback, and nothing left half-done."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from parity.data.manifest import REGULAR, DataVersion, FileEntry
from parity.data.pointer import Pointer, write_pointer
from parity.data.versions import store_version
from parity.workspace import open_workspace
from tests.conftest import run_parity


def _one_line_error(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> str:
    """The error line; fails unless the command exited ``code`` with one line naming each
    needle (and no traceback)."""
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    assert lines[0].endswith(")"), "every refusal carries a hint: " + lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def _temp_files(root: Path) -> list[str]:
    return sorted(p.name for p in (root / ".parity" / "objects" / "tmp").iterdir())


@pytest.fixture
def umask_027() -> Iterator[None]:
    """A umask that differs from mkstemp's fixed 0600 and from the usual 022."""
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def test_a_binary_pointer_is_refused_by_status_checkout_and_pull(workspace_dir: Path) -> None:
    (workspace_dir / "data").mkdir()
    (workspace_dir / "data" / "a.txt").write_text("a\n")
    assert run_parity("data", "add", "data", cwd=workspace_dir).returncode == 0
    (workspace_dir / "data.parity").write_bytes(b"\xff\xfe\x00\x01binary")
    for command in (("status",), ("checkout",), ("pull",), ("status", "data")):
        result = run_parity("data", *command, cwd=workspace_dir)
        _one_line_error(result, 2, "data.parity is not a Parity pointer", "not UTF-8", "git")


def test_a_symlink_loop_in_a_folder_is_refused(workspace_dir: Path) -> None:
    data = workspace_dir / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    (data / "loop").symlink_to("loop")
    result = run_parity("data", "add", "data", cwd=workspace_dir)
    _one_line_error(result, 2, "data/loop", "symlink loop")
    assert not (workspace_dir / "data.parity").exists()
    assert _temp_files(workspace_dir) == []


def test_a_symlink_out_of_the_workspace_is_refused_unless_followed(
    workspace_dir: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the content of a file outside the project\n")
    data = workspace_dir / "data"
    data.mkdir()
    (data / "inside.txt").write_text("in\n")
    (data / "also-inside.txt").symlink_to("inside.txt")  # inside the workspace: followed
    (data / "leak.txt").symlink_to(secret)
    refused = run_parity("data", "add", "data", cwd=workspace_dir)
    _one_line_error(refused, 2, "data/leak.txt", str(secret), "outside the workspace")
    assert "--follow-symlinks" in refused.stderr
    assert not (workspace_dir / "data.parity").exists()
    # A single file that is such a link is refused the same way.
    (workspace_dir / "passwd").symlink_to(secret)
    _one_line_error(run_parity("data", "add", "passwd", cwd=workspace_dir), 2, "outside")

    followed = run_parity("data", "add", "--follow-symlinks", "data", "--json", cwd=workspace_dir)
    assert followed.returncode == 0, followed.stderr
    assert '"files": 3' in followed.stdout


def test_a_line_break_in_a_name_is_refused_before_anything_is_written(
    workspace_dir: Path,
) -> None:
    folder = workspace_dir / "g"
    folder.mkdir()
    (folder / "new\nline.txt").write_text("1\n")
    result = run_parity("data", "add", "g/new\nline.txt", cwd=workspace_dir)
    _one_line_error(result, 2, "line break", ".gitignore")
    # Before: two .gitignore lines, "/new" and "line.txt", ignoring every line.txt below.
    assert sorted(p.name for p in folder.iterdir()) == ["new\nline.txt"]
    assert _temp_files(workspace_dir) == []


def test_a_file_name_that_is_not_utf8_is_refused(workspace_dir: Path) -> None:
    folder = workspace_dir / "h"
    folder.mkdir()
    (folder / "ok.txt").write_text("ok\n")
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.csv"), "w") as handle:
        handle.write("latin-1 name\n")
    result = run_parity("data", "add", "h", cwd=workspace_dir)
    _one_line_error(result, 2, "caf\\xe9.csv", "not UTF-8", "rename")
    assert not (workspace_dir / "h.parity").exists()
    assert _temp_files(workspace_dir) == []


@pytest.mark.slow
def test_names_longer_than_the_file_system_allows(workspace_dir: Path) -> None:
    (workspace_dir / "f").mkdir()
    missing = run_parity("data", "add", "f/" + "a" * 300, cwd=workspace_dir)
    _one_line_error(missing, 2, "too long")
    # The data fits, its pointer (NAME.parity) would not: refused before anything is stored.
    long_name = "b" * 250
    (workspace_dir / "f" / long_name).write_text("x\n")
    result = run_parity("data", "add", f"f/{long_name}", cwd=workspace_dir)
    _one_line_error(result, 2, "too long", "rename it to at most")
    assert sorted(p.name for p in (workspace_dir / "f").iterdir()) == [long_name]


def test_status_of_a_path_that_does_not_exist_is_not_found(workspace_dir: Path) -> None:
    result = run_parity("data", "status", "nonexistent.csv", cwd=workspace_dir)
    _one_line_error(result, 3, "nonexistent.csv")
    # A file that exists and has no pointer yet is still reported as added.
    (workspace_dir / "new.csv").write_text("a,b\n")
    listed = run_parity("data", "status", "new.csv", cwd=workspace_dir)
    assert listed.returncode == 0, listed.stderr
    assert "added: new.csv" in listed.stdout


def _hostile_version(root: Path, name: str, path: str) -> None:
    """Point ``name.parity`` at a stored data version whose one file is ``path`` (the record is
    built directly, as a hostile or damaged record would be, past the reader's checks)."""
    workspace = open_workspace(root, environ={})
    try:
        version = DataVersion("folder", (FileEntry(path, 0, REGULAR, "0" * 64, ()),))
        version_id = store_version(workspace.objects, workspace.records.meta, version, 0, "hostile")
        write_pointer(root / f"{name}.parity", Pointer(version_id, 0, 1, "folder"))
    finally:
        workspace.close()


def test_a_traversal_path_in_a_record_is_refused_by_status_and_checkout(
    workspace_dir: Path,
) -> None:
    (workspace_dir / "data").mkdir()
    _hostile_version(workspace_dir, "data", "../escaped.txt")
    for command in ("status", "checkout"):
        result = run_parity("data", command, "data", cwd=workspace_dir)
        _one_line_error(result, 2, "damaged data version record", "'../escaped.txt'", "escapes")
        assert "escaped.txt" not in run_parity("data", "status", "--json", cwd=workspace_dir).stdout
    assert not (workspace_dir / "escaped.txt").exists()


def test_a_name_in_a_record_too_long_to_write_fails_checkout_in_one_line(
    workspace_dir: Path,
) -> None:
    _hostile_version(workspace_dir, "data", "c" * 300)
    result = run_parity("data", "checkout", "data", cwd=workspace_dir)
    _one_line_error(result, 2, "longer than the file system allows", "shorter")
    assert list((workspace_dir / "data").iterdir()) == []  # no temp file left behind


def test_checkout_rev_keeps_the_pointer_mode_and_new_files_follow_the_umask(
    workspace_dir: Path, umask_027: None
) -> None:
    subprocess.run(["git", "init", "-q"], cwd=workspace_dir, check=True)
    data = workspace_dir / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    assert run_parity("data", "add", "data", cwd=workspace_dir).returncode == 0
    pointer, gitignore = workspace_dir / "data.parity", workspace_dir / ".gitignore"
    assert pointer.stat().st_mode & 0o777 == 0o640  # before: 0600, whatever the umask
    assert gitignore.stat().st_mode & 0o777 == 0o640
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "-A"], cwd=workspace_dir, check=True)
    subprocess.run([*git, "commit", "-qm", "data"], cwd=workspace_dir, check=True)
    pointer.chmod(0o644)  # as git checks it out under another umask
    (data / "a.txt").unlink()
    result = run_parity("data", "checkout", "--rev", "HEAD", "data", cwd=workspace_dir)
    assert result.returncode == 0, result.stderr
    assert pointer.stat().st_mode & 0o777 == 0o644  # before: rewritten 0600
    assert (data / "a.txt").stat().st_mode & 0o777 == 0o640  # 0644 less the umask


def test_checkout_never_writes_or_deletes_through_a_symlink_out_of_the_workspace(
    workspace_dir: Path, tmp_path: Path
) -> None:
    from parity.api import data

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "yours.txt").write_text("not Parity's\n")
    folder = workspace_dir / "d"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a\n")
    (folder / "sub" / "b.txt").write_text("b\n")
    data.add(folder, workspace=open_workspace(workspace_dir, environ={}))
    # The data path itself a symlink out of the workspace, with a copy of a valid pointer.
    (workspace_dir / "link").symlink_to(outside)
    (workspace_dir / "link.parity").write_bytes((workspace_dir / "d.parity").read_bytes())
    for force in ((), ("--force",)):
        refused = run_parity("data", "checkout", "link", *force, cwd=workspace_dir)
        _one_line_error(refused, 2, "leads outside the workspace")
    # A folder inside the data path that is a symlink out of the workspace.
    import shutil

    shutil.rmtree(folder / "sub")
    (folder / "sub").symlink_to(outside)
    refused = run_parity("data", "checkout", "d", "--force", cwd=workspace_dir)
    _one_line_error(refused, 2, "leads outside the workspace")
    assert sorted(p.name for p in outside.iterdir()) == ["yours.txt"]
    assert (outside / "yours.txt").read_text() == "not Parity's\n"
