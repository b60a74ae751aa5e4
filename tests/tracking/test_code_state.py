"""Code state from a real git repository: commit, branch, remote without secrets, exact diff."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from parity.core.run import CodeState, strip_credentials
from parity.store.objects import open_object_store
from parity.tracking import code_state
from parity.tracking.code_state import capture_code_state, read_status
from tests.tracking.conftest import PUBLIC_REMOTE, git


def test_a_clean_tree(repo: Path, tmp_path: Path) -> None:
    objects = open_object_store(str(tmp_path / "objects"))
    state = capture_code_state(repo / ".parity", objects)  # any folder inside the tree
    assert state is not None
    assert state.commit == git(repo, "rev-parse", "HEAD").strip()
    assert state.branch == "main"
    assert state.repo_url == PUBLIC_REMOTE
    assert not state.dirty
    assert state.diff_digest is None
    assert state.untracked == ()


def test_a_dirty_tree_stores_exactly_git_diff(repo: Path, tmp_path: Path) -> None:
    objects = open_object_store(str(tmp_path / "objects"))
    (repo / "train.py").write_text("print('training harder')\n")
    (repo / "binary.bin").write_bytes(bytes(range(256)))
    git(repo, "add", "binary.bin")
    (repo / "notes.txt").write_text("scratch\n")
    state = capture_code_state(repo, objects)
    assert state is not None
    assert state.dirty
    assert state.untracked == ("notes.txt",)
    assert state.diff_digest is not None
    expected = git(repo, "diff", "HEAD", "--binary").encode()
    assert objects.get_bytes(state.diff_digest) == expected
    assert b"GIT binary patch" in expected
    assert CodeState.from_record(state.to_record()) == state


def test_detached_head_and_no_repository(repo: Path, tmp_path: Path) -> None:
    objects = open_object_store(str(tmp_path / "objects"))
    git(repo, "checkout", "-q", "--detach")
    state = capture_code_state(repo, objects)
    assert state is not None
    assert state.branch is None
    outside = tmp_path / "plain"
    outside.mkdir()
    assert capture_code_state(outside, objects) is None


def test_credentials_never_reach_the_record() -> None:
    assert (
        strip_credentials("https://bob:ghp_token@github.com/o/r.git")
        == "https://github.com/o/r.git"
    )
    assert strip_credentials("https://token@host:8443/r.git?x=1") == "https://host:8443/r.git"
    assert strip_credentials("ssh://git@host/r.git") == "ssh://host/r.git"
    assert strip_credentials("git@github.com:o/r.git") == "git@github.com:o/r.git"


def test_reading_porcelain_v2() -> None:
    output = (
        b"# branch.oid (initial)\0# branch.head main\0"
        b"2 R. N... 100644 100644 100644 abc abc R100 new.py\0old.py\0? new file.txt\0"
    )
    assert read_status(output) == (None, "main", True, ["new file.txt"])


def test_the_remote_is_asked_once_until_a_config_changes(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A process starting many runs asks git for the remotes once; one git call per run after.
    objects = open_object_store(str(tmp_path / "objects"))
    calls: list[tuple[str, ...]] = []
    asked = code_state._git

    def counting(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
        calls.append(args)
        return asked(folder, *args)

    monkeypatch.setattr(code_state, "_git", counting)
    first = capture_code_state(repo, objects)
    second = capture_code_state(repo, objects)
    assert first is not None
    assert second is not None
    assert second.repo_url == first.repo_url == PUBLIC_REMOTE
    # ls-files and the ignored files' status are the tree stamp's (test_tree_stamp.py)
    stamp_calls = [args for args in calls if args[0] == "ls-files" or "--ignored=matching" in args]
    assert sorted(args[0] for args in calls if args not in stamp_calls) == [
        "config",
        "status",
        "status",
    ]
    # Set twice within the clock's tick: each `git remote set-url` renames a new file in place.
    git(repo, "remote", "set-url", "origin", "https://example.com/one.git")
    git(repo, "remote", "set-url", "origin", "https://example.com/two.git")
    third = capture_code_state(repo, objects)
    assert third is not None
    assert third.repo_url == "https://example.com/two.git"
