"""The kept code state of a process starting many runs: git is asked again whenever anything it
would report differently has changed, and only then."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import parity
from parity.core.run import CodeState
from parity.store.objects import open_object_store
from parity.store.objects.store import ObjectStore
from parity.tracking import code_state, tree_stamp
from parity.tracking.code_state import capture_code_state
from parity.workspace import Workspace
from tests.tracking.conftest import git

# Longer than the coarsest clock tick of the file systems tests run on (Linux: a few ms).
TICK_S = 0.05


class Capturer:
    """capture_code_state with a count of the `git status` calls it made."""

    def __init__(self, repo: Path, objects: ObjectStore, monkeypatch: pytest.MonkeyPatch) -> None:
        self.repo = repo
        self.objects = objects
        self.statuses = 0
        asked = code_state._git

        def counting(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
            if args[0] == "status" and args != tree_stamp.IGNORED_STATUS:  # not the stamp's
                self.statuses += 1
            return asked(folder, *args)

        monkeypatch.setattr(code_state, "_git", counting)

    def __call__(self) -> CodeState:
        state = capture_code_state(
            self.repo, self.objects, mark_folder=self.repo / ".parity" / "cache"
        )
        assert state is not None
        return state

    def truth(self) -> CodeState:
        """What git says now, with nothing kept."""
        with code_state._kept_lock:
            kept = code_state._kept.pop(self.repo.resolve(), None)
        try:
            return self()
        finally:
            with code_state._kept_lock:
                code_state._kept.pop(self.repo.resolve(), None)
                if kept is not None:
                    code_state._kept[self.repo.resolve()] = kept

    def settle(self) -> CodeState:
        """Capture until the kept status answers without git, and return it."""
        time.sleep(TICK_S)
        self()
        self()  # stamped now (the first capture of a tree in a process is git's alone)
        before = self.statuses
        state = self()
        assert self.statuses == before, "an unchanged tree asked git again"
        return state


@pytest.fixture
def capture(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Capturer]:
    objects = open_object_store(str(tmp_path / "objects"))
    with code_state._kept_lock:
        code_state._kept.clear()
    yield Capturer(repo, objects, monkeypatch)
    with code_state._kept_lock:
        code_state._kept.clear()


def test_a_sweep_from_an_unchanged_tree_asks_git_twice(capture: Capturer) -> None:
    time.sleep(TICK_S)
    states = [capture() for _ in range(20)]
    assert capture.statuses == 2  # the first capture, then the one read with the stamp
    assert all(state == states[0] for state in states)
    assert states[0] == capture.truth()


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _stage(repo: Path) -> None:
    _write(repo / "staged.py", "1\n")
    git(repo, "add", "staged.py")


def _commit(repo: Path) -> None:
    _write(repo / "train.py", "print('again')\n")
    git(repo, "commit", "-qam", "again")


CHANGES: dict[str, Callable[[Path], object]] = {
    # the same size, so only the times and the content differ
    "a tracked file edited": lambda repo: _write(repo / "train.py", "print('trainin!')\n"),
    "a tracked file removed": lambda repo: (repo / "train.py").unlink(),
    "a new file at the top": lambda repo: _write(repo / "notes.txt", "x\n"),
    "a new file in a new folder": lambda repo: _write(repo / "new" / "deep" / "x.py", "1\n"),
    "a file in an empty folder": lambda repo: _write(repo / "empty" / "x.py", "1\n"),
    # a folder holding only ignored files is not ignored itself
    "a file beside ignored ones": lambda repo: _write(repo / "compiled" / "x.py", "1\n"),
    "a file ignored no longer": lambda repo: _write(repo / ".gitignore", "_script.py\n"),
    "a file staged": _stage,
    "a commit": _commit,
    "another branch": lambda repo: git(repo, "checkout", "-qb", "other"),
    "the info/exclude file": lambda repo: _write(repo / ".git" / "info" / "exclude", "*.txt\n"),
    # out/ matches folders only: a file of that name, where the ignored folder was, is untracked
    "an ignored folder replaced by a file": lambda repo: (
        shutil.rmtree(repo / "out"),
        _write(repo / "out", "x\n"),
    ),
    # git lists a link, not what the folder it points to holds (a stat through it is the same)
    "a folder moved out and linked to": lambda repo: (
        (repo / "data").rename(repo.parent / "outside"),
        (repo / "data").symlink_to(repo.parent / "outside"),
    ),
    # an ignored .gitignore still says what git ignores in its folder
    "an ignored .gitignore edited": lambda repo: _write(repo / "sub" / ".gitignore", "*.tmp\n"),
    # HEAD may name any ref, and a ref may name another: each one HEAD leads to is read
    "HEAD's ref outside refs/heads moved": lambda repo: git(
        repo, "update-ref", "refs/remotes/origin/main", "main"
    ),
    "the ref a symbolic branch names moved": lambda repo: git(
        repo, "update-ref", "refs/heads/main", "main~1"
    ),
    # attributes change the diff kept with a dirty tree (binary: a binary patch)
    "the info/attributes file": lambda repo: _write(
        repo / ".git" / "info" / "attributes", "train.py binary\n"
    ),
    "an ignored .gitattributes edited": lambda repo: _write(
        repo / ".gitattributes", "train.py binary\n"
    ),
    # dotfiles are often links: git reads the file linked to
    "an excludes file linked to, edited": lambda repo: _write(repo.parent / "dotfiles", "*.md\n"),
    "a configured attributes file edited": lambda repo: _write(
        repo.parent / "attributes", "train.py binary\n"
    ),
}


def _before(repo: Path, change: str) -> None:
    """What a change needs in the tree before the stamp."""
    if change in ("the info/exclude file", "an excludes file linked to, edited"):
        _write(repo / "notes.txt", "y\n")
    if change == "an excludes file linked to, edited":
        _write(repo.parent / "dotfiles", "*.txt\n")
        (repo.parent / "ignore").symlink_to(repo.parent / "dotfiles")
        git(repo, "config", "core.excludesFile", str(repo.parent / "ignore"))
    if change == "HEAD's ref outside refs/heads moved":
        git(repo, "update-ref", "refs/remotes/origin/main", "main")
        _commit(repo)
        git(repo, "symbolic-ref", "HEAD", "refs/remotes/origin/main")
        git(repo, "reset", "-q", "--hard")
    if change == "the ref a symbolic branch names moved":
        _commit(repo)
        git(repo, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
        git(repo, "symbolic-ref", "HEAD", "refs/heads/alias")
    if change in (
        "the info/attributes file",
        "an ignored .gitattributes edited",
        "a configured attributes file edited",
    ):
        _write(repo / "train.py", "print('dirty')\n")
    if change == "a configured attributes file edited":
        _write(repo.parent / "attributes", "# none\n")
        git(repo, "config", "core.attributesFile", str(repo.parent / "attributes"))
    if change == "an ignored .gitattributes edited":
        _write(repo / ".gitignore", "*.pyc\n_script.py\n.gitattributes\n")
        _write(repo / ".gitattributes", "# none\n")
    if change == "a folder moved out and linked to":
        _write(repo / "data" / "rows.csv", "1\n")
    if change == "an ignored folder replaced by a file":
        _write(repo / ".gitignore", "*.pyc\n_script.py\nout/\n")
        git(repo, "commit", "-qam", "folders named out are ignored")
        _write(repo / "out" / "model.bin", "x\n")
    if change == "an ignored .gitignore edited":
        _write(repo / ".gitignore", "*.pyc\n_script.py\nsub/.gitignore\n")
        git(repo, "commit", "-qam", "sub/.gitignore is ignored")
        _write(repo / "sub" / ".gitignore", "*.log\n")
        _write(repo / "sub" / "run.log", "x\n")


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_git_reports_is_seen(capture: Capturer, repo: Path, change: str) -> None:
    (repo / "empty").mkdir()
    _write(repo / "keep.pyc", "ignored until .gitignore changes\n")  # *.pyc is ignored
    _write(repo / "compiled" / "x.pyc", "ignored\n")
    _before(repo, change)
    before = capture.settle()
    CHANGES[change](repo)
    after = capture()
    assert after == capture.truth()
    assert after != before, f"{change}: git reports a difference the capture did not"


def test_what_an_ignored_folder_holds_costs_no_git_call(capture: Capturer, repo: Path) -> None:
    before = capture.settle()
    for name in ("a.bin", "b.bin"):  # a run's outputs in an ignored folder
        _write(repo / ".parity" / "cache" / name, "scratch\n")
    asked = capture.statuses
    assert capture() == before
    assert capture.statuses == asked


def test_a_new_ignored_file_costs_one_git_call(capture: Capturer, repo: Path) -> None:
    # A new name in a folder git reads may be an untracked file: git is asked, once.
    before = capture.settle()
    _write(repo / "a.pyc", "compiled\n")
    asked = capture.statuses
    assert capture() == before
    assert capture.statuses == asked + 1
    assert capture.settle() == before


def test_a_dirty_tree_keeps_its_diff(capture: Capturer, repo: Path) -> None:
    _write(repo / "train.py", "print('training harder')\n")
    state = capture.settle()
    assert state.dirty
    assert state.diff_digest is not None
    diff = git(repo, "diff", "HEAD", "--binary").encode()
    assert capture.objects.get_bytes(state.diff_digest) == diff
    _write(repo / "train.py", "print('training hardest')\n")
    changed = capture()
    assert changed.diff_digest != state.diff_digest
    assert changed == capture.truth()


def test_a_file_rewritten_within_the_clock_tick_is_seen(
    capture: Capturer, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As if the script had been written in the instant the stamp was taken (git's own files and
    # .gitignore before it: written then, they refuse the stamp), and it were then rewritten
    # with its stat unchanged (the same size, times within one tick).
    time.sleep(TICK_S)
    target = repo / "train.py"
    os.utime(target)
    written = target.stat()
    mark = (max(written.st_mtime_ns, written.st_ctime_ns), 0)
    monkeypatch.setattr(code_state, "clock_mark", lambda folder, tree: mark)
    capture()
    capture()  # stamped, the script recent
    asked = capture.statuses
    clean = capture()
    assert capture.statuses == asked  # recent entries compared by content: still the same
    info = target.stat()
    target.write_text("print('trainin!')\n")  # the same size
    os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
    monkeypatch.setattr(tree_stamp, "stat_of", _without_ctime(tree_stamp.stat_of))
    changed = capture()
    assert changed.dirty
    assert not clean.dirty


RACES: dict[str, tuple[Callable[[Path], object], Callable[[Path], object]]] = {
    # build/ ignored when git listed the tree, no longer when the stamp was taken
    "a .gitignore": (
        lambda repo: _write(repo / ".gitignore", "*.pyc\n_script.py\n"),
        lambda repo: _write(repo / "build" / "b.txt", "x\n"),
    ),
    # f.pyc ignored and untracked when git listed the tree, staged when the stamp was taken
    "the index": (
        lambda repo: git(repo, "add", "-f", "f.pyc"),
        lambda repo: _write(repo / "f.pyc", "yy\n"),
    ),
}


@pytest.mark.parametrize("race", list(RACES))
def test_a_rule_changed_while_the_tree_is_listed_is_seen(
    capture: Capturer, repo: Path, monkeypatch: pytest.MonkeyPatch, race: str
) -> None:
    _write(repo / ".gitignore", "*.pyc\n_script.py\nbuild/\n")
    git(repo, "commit", "-qam", "build/ is ignored")
    _write(repo / "build" / "a.txt", "x\n")
    _write(repo / "f.pyc", "x\n")
    capture.settle()
    _write(repo / "train.py", "print('trainin!')\n")  # the stamp fails: another is taken
    during, after = RACES[race]
    take = code_state.take_stamp

    def racing(*args: object, **kwargs: object) -> tree_stamp.TreeStamp | None:
        during(repo)  # after git listed what it tracks and ignores, before the stamp
        return take(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(code_state, "take_stamp", racing)
    capture()
    monkeypatch.setattr(code_state, "take_stamp", take)
    after(repo)
    assert capture() == capture.truth()


def _without_ctime(stat_of: Callable[[str], tuple[int, ...]]) -> Callable[[str], tuple[int, ...]]:
    """stat_of as on a file system whose ctime does not move (only mtime, set back above)."""

    def stat(path: str) -> tuple[int, ...]:
        info = stat_of(path)
        return (*info[:3], 0, *info[4:]) if info else info

    return stat


def test_a_sparse_checkout_is_not_stamped(capture: Capturer, repo: Path) -> None:
    _write(repo / ".git" / "info" / "sparse-checkout", "/*\n")
    time.sleep(TICK_S)
    for _ in range(4):
        capture()
    assert capture.statuses == 4


def test_a_file_staged_in_another_index_is_seen(
    capture: Capturer, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIT_INDEX_FILE (as GIT_DIR, GIT_WORK_TREE) has git read files the stamp does not hold.
    other = repo.parent / "other-index"
    shutil.copy(repo / ".git" / "index", other)
    monkeypatch.setenv("GIT_INDEX_FILE", str(other))
    _write(repo / "new.py", "1\n")
    time.sleep(TICK_S)
    before = [capture() for _ in range(3)][-1]  # as settle() would, where a stamp is allowed
    git(repo, "add", "new.py")  # into the other index: .git/index does not move
    after = capture()
    assert after == capture.truth()
    assert after.dirty
    assert not before.dirty


def test_a_tree_too_large_to_stamp_costs_no_more_git_calls(
    capture: Capturer, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    listed = 0
    asked = code_state._git

    def counting(folder: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
        nonlocal listed
        listed += args[0] == "ls-files" or args == tree_stamp.IGNORED_STATUS
        return asked(folder, *args)

    monkeypatch.setattr(code_state, "_git", counting)
    tracked = len(git(repo, "ls-files").splitlines())
    monkeypatch.setattr(tree_stamp, "MAX_ENTRIES", tracked - 1)
    time.sleep(TICK_S)
    states = [capture() for _ in range(20)]
    assert capture.statuses == 20
    assert listed == 0  # the index's header says how many files git tracks
    assert all(state == states[0] for state in states)


def test_a_stamp_that_never_lasts_is_taken_less_often(
    capture: Capturer, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stamps = 0
    take = code_state.take_stamp

    def counting(*args: object, **kwargs: object) -> tree_stamp.TreeStamp | None:
        nonlocal stamps
        stamps += 1
        return take(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(code_state, "take_stamp", counting)
    for step in range(40):  # a run that writes a tracked file each time
        time.sleep(0.005)
        _write(repo / "train.py", f"print({step})\n")
        capture()
    assert capture.statuses == 40  # every change is read from git
    assert stamps < 12  # but the stamps that never held stopped being taken every time


def test_runs_of_one_process_record_each_tree_as_git_sees_it(
    repo: Path, workspace: Workspace
) -> None:
    with code_state._kept_lock:
        code_state._kept.clear()
    time.sleep(TICK_S)
    commit = git(repo, "rev-parse", "HEAD").strip()
    ids = []
    for step in range(6):
        if step == 4:  # between two runs of a sweep, the script is edited
            _write(repo / "train.py", "print('trainin!')\n")
        with parity.start_run(experiment="sweep", workspace=workspace) as run:
            ids.append(run.id)
    codes = [workspace.runs.get(run_id).code for run_id in ids]
    assert all(code is not None and code["commit"] == commit for code in codes)
    assert [code["dirty"] for code in codes if code is not None] == [False] * 4 + [True] * 2
    assert len({code["id"] for code in codes if code is not None}) == 2
