"""What a run records to be run again: folder, numerics variables, seeds, untracked code it read."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

import parity
from parity.api import runs
from parity.core.errors import UsageError
from parity.core.launch import Launch, seed_text
from parity.core.records import StoredRecord
from parity.core.run import CODE_KIND, CodeState
from parity.tracking.launch import files_named, launch_here, seed_libraries
from parity.tracking.store import RunStore
from parity.workspace import Workspace, now_ms, open_workspace
from tests.conftest import run_parity
from tests.tracking.conftest import git, run_script

SCRIPT = """
import sys
sys.path.insert(0, "..")
import helper
import parity
with parity.start_run(experiment="e", seed=3) as run:
    run.log_seed(42, "split")
    print(run.id)
"""


def test_an_api_run_records_its_folder_variables_seeds_and_the_untracked_code_it_read(
    repo: Path,
) -> None:
    (repo / "helper.py").write_text("VALUE = 1\n")  # untracked, imported by the script
    (repo / "notes.txt").write_text("not read\n")  # untracked, never read
    (repo / "sub").mkdir()
    environ = {"OMP_NUM_THREADS": "2", "MY_SECRET_TOKEN": "hunter2"}
    done = run_script(SCRIPT, repo / "sub", env=environ, args=["--epochs", "3"])
    assert done.returncode == 0, done.stderr
    workspace = open_workspace(repo, environ={})
    view = runs.get(done.stdout.strip(), workspace=workspace)
    assert view.command[1:] == (str(repo / "sub" / "_script.py"), "--epochs", "3")
    assert view.launch is not None
    assert (view.launch.cwd, view.launch.in_repository) == ("sub", True)
    assert view.launch.variables["OMP_NUM_THREADS"] == "2"
    assert "MY_SECRET_TOKEN" not in json.dumps(view.to_dict())  # never read into a record
    assert view.seeds == {"random": "3", "split": "42"}
    assert view.code is not None
    read = {f["path"]: f for f in view.code["untracked_read"]}
    assert sorted(read) == ["helper.py"]  # _script.py is git-ignored; notes.txt was not read
    assert workspace.objects.get_bytes(read["helper.py"]["digest"]) == b"VALUE = 1\n"
    assert "notes.txt" in view.code["untracked"]
    workspace.close()


def test_a_wrapped_command_records_the_untracked_files_it_names(repo: Path) -> None:
    (repo / "prepare.py").write_text("print('prepared')\n")
    done = run_parity("run", "--", sys.executable, "prepare.py", cwd=repo)
    assert done.returncode == 0, done.stderr
    run_id = next(line.split()[2] for line in done.stderr.splitlines() if "parity: run" in line)
    workspace = open_workspace(repo, environ={})
    view = runs.get(run_id, workspace=workspace)
    assert view.launch is not None
    assert view.launch.cwd == "."
    assert view.code is not None
    assert [f["path"] for f in view.code["untracked_read"]] == ["prepare.py"]
    workspace.close()


def test_a_code_state_without_untracked_reads_keeps_format_one_and_its_id() -> None:
    plain = CodeState("u", "c" * 40, "main", False, None, ("a.txt",))
    assert plain.to_record().format == 1
    assert "untracked_read" not in plain.to_record().body
    document = {**plain.to_dict(), "untracked_read": [{"path": "a.py", "digest": "d", "size": 3}]}
    newer = CodeState.from_record(StoredRecord(CODE_KIND, 2, document))
    assert newer.to_record().format == 2
    assert newer.untracked_read[0].path == "a.py"
    assert CodeState.from_record(plain.to_record()) == plain  # format 1 reads as before


def test_a_run_recorded_before_launches_reads_back_without_one(workspace: Workspace) -> None:
    store = RunStore(workspace.meta, now_ms, workspace.records)
    run_id = store.create(experiment="old", name=None, user="u", host=None, command=["x"])
    view = store.get(run_id)
    assert (view.launch, view.seeds, view.reproduces) == (None, {}, None)
    assert view.to_dict()["launch"] is None


def test_seeds_are_named_keys_and_a_later_seed_replaces_an_earlier(workspace: Workspace) -> None:
    with parity.start_run(workspace=workspace) as run:
        run.log_seed(1)
        run.log_seed(2)
        with pytest.raises(UsageError, match="invalid seed name"):
            run.log_seed(1, "bad'name")
    assert runs.get(run.id, workspace=workspace).seeds == {"seed": "2"}
    with pytest.raises(UsageError, match="empty or longer"):
        seed_text("x" * 500)
    assert seed_text(True) == "1"


def test_set_seed_reaches_the_libraries_the_script_imported() -> None:
    import numpy

    seeded = seed_libraries(7)
    assert (seeded["random"], seeded["numpy"]) == ("7", "7")
    first = (random.random(), numpy.random.rand())
    seed_libraries(7)
    assert (random.random(), numpy.random.rand()) == first


def test_launch_outside_a_repository_is_absolute(tmp_path: Path) -> None:
    launch = launch_here(tmp_path)
    expected = Launch(str(tmp_path.resolve()), in_repository=False, variables=launch.variables)
    assert launch == expected
    assert Launch.from_dict(launch.to_dict()) == launch
    with pytest.raises(UsageError, match="newer Parity"):
        Launch.from_dict({"format": 99})
    (tmp_path / "a.txt").write_text("a")
    assert files_named(["python", "a.txt", "missing.txt", "\0bad"], tmp_path) == [
        tmp_path / "a.txt"
    ]


def test_the_code_references_name_the_untracked_blobs(repo: Path) -> None:
    from parity.core.run import code_references

    body = {"commit": "c" * 40, "untracked_read": [{"path": "a.py", "digest": "d" * 64}]}
    found = {(r.field, r.id) for r in code_references(body)}
    assert ("untracked_read[0].digest", "d" * 64) in found
    git(repo, "status")  # the fixture's repository is a real one
