"""Acceptance: add, change, add again, commit both, and ``checkout --rev`` the first exactly."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.conftest import run_parity
from tests.data._trees import build_tree, fingerprint, git, small_chunks


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    assert run_parity("init", cwd=root).returncode == 0
    small_chunks(root)
    return root


@pytest.mark.slow
def test_checkout_of_the_first_commit_is_byte_identical(repo: Path) -> None:
    data = repo / "data"
    data.mkdir()
    build_tree(data)
    original = fingerprint(data)

    added = run_parity("data", "add", "data", "--json", cwd=repo)
    assert added.returncode == 0, added.stderr
    first = json.loads(added.stdout)[0]
    assert first["files"] == 5
    assert (repo / "data.parity").is_file()
    assert "/data" in (repo / ".gitignore").read_text().splitlines()
    git(repo, "add", "data.parity", ".gitignore", ".parity/config.toml")
    git(repo, "commit", "-q", "-m", "first")
    first_commit = git(repo, "rev-parse", "HEAD")

    (data / "a.csv").write_text("id,value\n1,3\n")  # changed
    (data / "nested" / "new.txt").write_text("new\n")  # added
    (data / "nested" / "deeper" / "ünïcødé 数据.txt").unlink()  # deleted
    with open(data / "large.bin", "r+b") as handle:  # a chunked file, edited in place
        handle.seek(1000)
        handle.write(b"EDITED")
    status = run_parity("data", "status", "data", "--json", cwd=repo)
    assert status.returncode == 0
    report = json.loads(status.stdout)[0]
    assert report["added"] == ["nested/new.txt"]
    assert sorted(report["modified"]) == ["a.csv", "large.bin"]
    assert report["deleted"] == ["nested/deeper/ünïcødé 数据.txt"]

    second = run_parity("data", "add", "data", "--json", cwd=repo)
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout)[0]["data_version"] != first["data_version"]
    git(repo, "commit", "-q", "-am", "second")

    back = run_parity("data", "checkout", "data", "--rev", first_commit, cwd=repo)
    assert back.returncode == 0, back.stderr
    assert fingerprint(data) == original
    clean = run_parity("data", "status", "--json", cwd=repo)
    assert json.loads(clean.stdout)[0]["clean"] is True

    log = run_parity("data", "log", "data", "--json", cwd=repo)
    assert log.returncode == 0, log.stderr
    versions = [entry["data_version"] for entry in json.loads(log.stdout)]
    assert versions == [json.loads(second.stdout)[0]["data_version"], first["data_version"]]


@pytest.mark.slow
def test_checkout_restores_a_deleted_tree_and_never_overwrites_a_user_change(repo: Path) -> None:
    data = repo / "data"
    data.mkdir()
    build_tree(data)
    original = fingerprint(data)
    assert run_parity("data", "add", "data", cwd=repo).returncode == 0

    (data / "a.csv").write_text("my own edit\n")
    refused = run_parity("data", "checkout", "data", cwd=repo)
    assert refused.returncode == 4
    assert "a.csv" in refused.stderr
    assert (data / "a.csv").read_text() == "my own edit\n"

    forced = run_parity("data", "checkout", "data", "--force", cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert fingerprint(data) == original

    for path in sorted(data.rglob("*"), key=lambda p: -len(p.parts)):
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()
    data.rmdir()
    restored = run_parity("data", "checkout", cwd=repo)
    assert restored.returncode == 0, restored.stderr
    assert fingerprint(data) == original


def test_a_single_file_round_trips_with_its_exec_bit(repo: Path) -> None:
    model = repo / "model.bin"
    model.write_bytes(os.urandom(200_000))
    model.chmod(0o755)
    original = model.read_bytes()
    assert run_parity("data", "add", "model.bin", cwd=repo).returncode == 0
    model.unlink()
    assert run_parity("data", "checkout", "model.bin", cwd=repo).returncode == 0
    assert model.read_bytes() == original
    assert os.access(model, os.X_OK)


@pytest.mark.slow
def test_checkout_swaps_a_file_for_a_folder_of_the_same_name(repo: Path) -> None:
    data = repo / "data"
    data.mkdir()
    (data / "x").write_text("a file called x\n")
    assert run_parity("data", "add", "data", cwd=repo).returncode == 0
    git(repo, "add", "data.parity", ".gitignore")
    git(repo, "commit", "-q", "-m", "x is a file")
    (data / "x").unlink()
    (data / "x").mkdir()
    (data / "x" / "inside.txt").write_text("now x is a folder\n")
    assert run_parity("data", "add", "data", cwd=repo).returncode == 0
    back = run_parity("data", "checkout", "--rev", "HEAD", cwd=repo)
    assert back.returncode == 0, back.stderr
    assert (data / "x").read_text() == "a file called x\n"
    forward = run_parity("data", "checkout", "--rev", "HEAD", cwd=repo)
    assert forward.returncode == 0


def test_an_emptied_folder_is_checked_out_where_it_was_deleted(repo: Path) -> None:
    # A version with no files at all still names a folder: checkout must create it, or the
    # next `data add` finds nothing to version.
    data = repo / "data"
    data.mkdir()
    assert run_parity("data", "add", "data", cwd=repo).returncode == 0
    data.rmdir()
    restored = run_parity("data", "checkout", "data", cwd=repo)
    assert restored.returncode == 0, restored.stderr
    assert data.is_dir()
    assert run_parity("data", "add", "data", cwd=repo).returncode == 0
