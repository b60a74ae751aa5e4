"""The code state checked out into a temporary worktree: commit, diff, untracked files."""

from __future__ import annotations

from pathlib import Path

import pytest

from parity.repro.worktree import CodeProblem, check_out, has_commit, workspace_folder
from parity.store.objects import open_object_store
from parity.tracking.code_state import capture_code_state
from tests.tracking.conftest import git, make_repo


def test_the_commit_the_diff_and_the_untracked_files_it_read(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    objects = open_object_store(str(tmp_path / "objects"))
    (repo / "train.py").write_text("print('changed, not committed')\n")
    (repo / "helper.py").write_text("HELP = 1\n")
    state = capture_code_state(repo, objects, read=[repo / "helper.py"])
    assert state is not None
    (repo / "train.py").write_text("print('changed again after the run')\n")
    checkout = check_out(state.to_dict(), repo, objects)
    try:
        assert (checkout.path / "train.py").read_text() == "print('changed, not committed')\n"
        assert (checkout.path / "helper.py").read_text() == "HELP = 1\n"
        assert checkout.notes == []
        assert git(checkout.path, "rev-parse", "HEAD").strip() == state.commit
    finally:
        checkout.remove()
    assert not checkout.path.exists()
    assert git(repo, "worktree", "list").count("\n") == 1
    assert (repo / "train.py").read_text() == "print('changed again after the run')\n"


def test_a_diff_that_does_not_hash_to_its_id_is_refused(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    objects = open_object_store(str(tmp_path / "objects"))
    (repo / "train.py").write_text("print('dirty')\n")
    state = capture_code_state(repo, objects)
    assert state is not None
    assert state.diff_digest is not None
    blob = next((tmp_path / "objects" / state.diff_digest[:2]).glob(state.diff_digest[2:] + "*"))
    blob.chmod(0o644)
    blob.write_bytes(blob.read_bytes()[:-3] + b"xyz")
    with pytest.raises(CodeProblem, match="the uncommitted diff: object"):
        check_out(state.to_dict(), repo, objects)
    assert git(repo, "worktree", "list").count("\n") == 1  # nothing left behind


def test_what_cannot_be_checked_out_is_named(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo")
    objects = open_object_store(str(tmp_path / "objects"))
    with pytest.raises(CodeProblem, match="has no commit"):
        check_out({"commit": None}, repo, objects)
    with pytest.raises(CodeProblem, match="is not in the repository"):
        check_out({"commit": "0" * 40}, repo, objects)
    assert not has_commit(repo, "0" * 40)
    head = git(repo, "rev-parse", "HEAD").strip()
    with pytest.raises(CodeProblem, match="outside the repository"):
        check_out(
            {"commit": head, "untracked_read": [{"path": "../x", "digest": "d"}]}, repo, objects
        )
    done = check_out(
        {"commit": head, "dirty": True, "untracked_read": [{"path": "big.bin", "digest": None}]},
        repo,
        objects,
    )
    done.remove()
    assert done.notes == [
        "the tree was dirty but no diff was stored: committed code only",
        "untracked file big.bin was too large to keep: not restored",
    ]
    assert workspace_folder(repo, repo / "sub") == Path("sub")


def test_an_untracked_file_behind_a_symlink_out_of_the_checkout_is_refused(
    tmp_path: Path,
) -> None:
    repo = make_repo(tmp_path / "repo")
    victim = tmp_path / "victim"
    victim.mkdir()
    (repo / "lnk").symlink_to(victim)
    git(repo, "add", "lnk")
    git(repo, "commit", "-q", "-m", "a symlink")
    objects = open_object_store(str(tmp_path / "objects"))
    state = capture_code_state(repo, objects)
    assert state is not None
    forged = state.to_dict()
    forged["untracked_read"] = [{"path": "lnk/pwned.txt", "digest": objects.put_bytes(b"x")}]
    with pytest.raises(CodeProblem, match="behind a symlink"):
        check_out(forged, repo, objects)
    assert list(victim.iterdir()) == []
