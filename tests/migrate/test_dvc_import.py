"""``parity import dvc`` against a repository the real DVC built over three commits.

After ``--all-commits``, ``parity data checkout --rev C`` must give, byte for byte, what
``dvc checkout`` gives at C, whether the objects come from DVC's cache or (cache deleted) from
its local remote; ``data history`` lists every version with its commit; the pipeline's stage is
a run per recorded state; a second import adds nothing; a damaged object is refused.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from parity.api import runs
from parity.api import workspace as workspaces
from tests.conftest import run_parity
from tests.migrate._dvc_project import (
    DvcProject,
    build,
    copy_project,
    dvc_checkouts,
    tree_bytes,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def built(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[DvcProject, dict[str, dict[str, bytes]]]:
    """The project (built once: DVC takes seconds per command) and DVC's checkout of each commit."""
    project = build(tmp_path_factory.mktemp("dvc") / "origin")
    return project, dvc_checkouts(project)


@pytest.fixture
def project(built: tuple[DvcProject, dict[str, dict[str, bytes]]], tmp_path: Path) -> DvcProject:
    """A fresh copy of the built project, with a Parity workspace at its root."""
    copied = copy_project(built[0], tmp_path / "repo")
    assert run_parity("init", cwd=copied.root).returncode == 0
    return copied


def _import(root: Path, *args: str) -> dict[str, object]:
    done = run_parity("import", "dvc", *args, "--json", cwd=root)
    assert done.returncode == 0, done.stderr
    report: dict[str, object] = json.loads(done.stdout)
    return report


@pytest.mark.parametrize("source", ["cache", "remote"])
def test_checkout_of_each_commit_gives_dvcs_bytes(
    built: tuple[DvcProject, dict[str, dict[str, bytes]]], project: DvcProject, source: str
) -> None:
    expected = built[1]
    if source == "remote":
        shutil.rmtree(project.root / ".dvc" / "cache")
    report = _import(project.root, "--all-commits")
    # 3 commits × (csv, images, model) all differ: 9 versions, each tied to its commit.
    assert report["versions_added"] == 9
    assert report["commits_linked"] == 9
    assert report["commits"] == 3
    assert report["pointers_written"] == 3
    total = sum(len(b) for tree in expected.values() for b in tree.values())
    assert report["bytes_read"] == total
    for commit in [*project.commits, project.commits[0]]:
        done = run_parity("data", "checkout", "--rev", commit, cwd=project.root)
        assert done.returncode == 0, done.stderr
        assert tree_bytes(project.root) == expected[commit], commit[:10]


def test_history_lists_every_version_with_its_commit(project: DvcProject) -> None:
    _import(project.root, "--all-commits")
    for path in ("data/data.csv", "data/images", "model.txt"):
        done = run_parity("data", "log", path, "--json", cwd=project.root)
        assert done.returncode == 0, done.stderr
        listed = json.loads(done.stdout)
        assert [entry["commit"] for entry in listed] == project.commits[::-1]
        assert all(entry["subject"].startswith("version ") for entry in listed)
        assert len({entry["data_version"] for entry in listed}) == 3
    # The work tree's pointer names the newest commit's version.
    newest = json.loads(run_parity("data", "log", "data/images", "--json", cwd=project.root).stdout)
    pointer = (project.root / "data" / "images.parity").read_text()
    assert f"data_version: {newest[0]['data_version']}" in pointer
    assert "files: 4" in pointer


def test_without_all_commits_only_head_is_imported_and_linked(project: DvcProject) -> None:
    report = _import(project.root)
    assert (report["versions_added"], report["commits_linked"], report["commits"]) == (3, 3, 1)
    listed = json.loads(
        run_parity("data", "log", "data/data.csv", "--json", cwd=project.root).stdout
    )
    assert [entry["commit"] for entry in listed] == [project.commits[-1]]
    status = run_parity("data", "status", "--json", cwd=project.root)
    assert [entry["clean"] for entry in json.loads(status.stdout)] == [True, True, True]
    # The rest of history comes in later, without importing HEAD's versions again.
    later = _import(project.root, "--all-commits")
    assert (later["versions_added"], later["versions_known"]) == (6, 3)


def test_the_stage_is_a_run_per_recorded_state_with_inputs_and_outputs(
    project: DvcProject,
) -> None:
    _import(project.root, "--all-commits")
    with workspaces.open(project.root) as ws:
        found = runs.list("dvc", workspace=ws)
        by_commit = {view.tags["dvc.commit"]: view for view in found}
        assert sorted(by_commit) == sorted(project.commits)
        for number, commit in enumerate(project.commits):
            view = by_commit[commit]
            assert view.name == "train"
            assert view.status.value == "finished"
            assert view.command[-1] == "train.py"
            assert view.params == {"lr": str([0.1, 0.2, 0.3][number])}
            assert view.tags["dvc.stage"] == "train"
            assert [link.path for link in view.inputs] == ["data/data.csv"]
            assert [link.path for link in view.outputs] == ["model.txt"]
            assert "train.py" in json.loads(view.tags["dvc.deps_not_imported"])
        # The run's data versions are the ones history ties to the same commit.
        history = json.loads(
            run_parity("data", "log", "model.txt", "--json", cwd=project.root).stdout
        )
        for entry in history:
            assert by_commit[entry["commit"]].outputs[0].data_version == entry["data_version"]


def test_a_second_import_adds_nothing(project: DvcProject) -> None:
    first = _import(project.root, "--all-commits")
    dry = _import(project.root, "--all-commits", "--dry-run")
    again = _import(project.root, "--all-commits")
    for report in (dry, again):
        assert report["versions_added"] == 0
        assert report["versions_known"] == first["versions_added"]
        assert report["commits_linked"] == 0
        assert report["pointers_written"] == 0
        assert report["runs_added"] == 0
        assert report["runs_known"] == 3
    assert again["bytes_read"] == 0
    with workspaces.open(project.root) as ws:
        assert len(runs.list("dvc", workspace=ws)) == 3


def test_a_dry_run_counts_and_writes_nothing(project: DvcProject) -> None:
    report = _import(project.root, "--all-commits", "--dry-run")
    assert (report["versions_added"], report["commits_linked"], report["runs_added"]) == (9, 9, 3)
    assert not (project.root / "data" / "data.csv.parity").exists()
    assert json.loads(run_parity("runs", "list", "--json", cwd=project.root).stdout) == []


def test_paths_limit_the_import(project: DvcProject) -> None:
    report = _import(project.root, "data/images", "--all-commits")
    assert report["outputs"] == ["data/images"]
    assert (report["versions_added"], report["runs_added"]) == (3, 0)
    assert not (project.root / "data" / "data.csv.parity").exists()


def test_a_corrupt_cache_object_is_refused(project: DvcProject) -> None:
    dvc_file = (project.root / "data" / "data.csv.dvc").read_text()
    md5 = next(line.split()[-1] for line in dvc_file.splitlines() if "md5:" in line)
    cached = project.root / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    cached.chmod(0o644)
    cached.write_bytes(b"a,b\n9,9\n")
    done = run_parity("import", "dvc", cwd=project.root)
    assert done.returncode == 5
    assert f"error: object {md5} is corrupt: DVC recorded md5 {md5}" in done.stderr
    assert "(DVC's copy is damaged: delete it, run 'dvc fetch' to restore it" in done.stderr
    assert not (project.root / "data" / "data.csv.parity").exists()


def test_an_object_in_neither_cache_nor_remote_is_named(project: DvcProject) -> None:
    shutil.rmtree(project.root / ".dvc" / "cache")
    shutil.rmtree(project.remote)
    done = run_parity("import", "dvc", cwd=project.root)
    assert done.returncode == 3
    assert "is in neither DVC's cache nor its remote" in done.stderr
    assert "run 'dvc pull'" in done.stderr


def test_a_folder_that_is_no_dvc_project_is_refused(workspace_dir: Path) -> None:
    done = run_parity("import", "dvc", cwd=workspace_dir)
    assert done.returncode == 2
    assert "is not a DVC project: it has no .dvc folder" in done.stderr
