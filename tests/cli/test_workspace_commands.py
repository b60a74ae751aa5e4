"""The command-line contract of init and status, through real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.conftest import run_parity

if TYPE_CHECKING:
    from parity.workspace import Workspace


def test_init_then_init_again_changes_nothing(tmp_path: Path) -> None:
    first = run_parity("init", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "Initialised Parity workspace" in first.stdout
    config = tmp_path / ".parity" / "config.toml"
    (config).write_text(config.read_text() + "# my edit\n")
    before = {p: p.read_bytes() for p in (tmp_path / ".parity").rglob("*") if p.is_file()}

    second = run_parity("init", cwd=tmp_path)
    assert second.returncode == 0
    assert "already initialised" in second.stdout
    after = {p: p.read_bytes() for p in before}
    assert after[config].endswith(b"# my edit\n")
    assert after == before


def test_init_for_a_team_server_makes_no_database_and_needs_no_server_yet(tmp_path: Path) -> None:
    # The server may not be up (or reachable) while a member sets up a project.
    environ = {"PARITY_SERVER_URL": "http://127.0.0.1:9", "PARITY_TOKEN": "pty_0_x"}
    made = run_parity("init", cwd=tmp_path, env=environ)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / ".parity" / "config.toml").is_file()
    assert not (tmp_path / ".parity" / "parity.db").exists()


def test_init_goes_to_the_git_root(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    result = run_parity("init", cwd=nested)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".parity" / "config.toml").is_file()
    status = run_parity("status", "--json", cwd=nested)
    assert json.loads(status.stdout)["root"] == str(tmp_path)


def test_status_outside_a_workspace_exits_3_with_the_hint(tmp_path: Path) -> None:
    result = run_parity("status", cwd=tmp_path)
    assert result.returncode == 3
    assert result.stderr.strip() == (
        "error: not inside a Parity workspace (run 'parity init' at the root of your project)"
    )


def test_a_mistyped_parity_workspace_is_not_found_not_skipped(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-workspace"
    result = run_parity("env", "capture", cwd=tmp_path, env={"PARITY_WORKSPACE": str(missing)})
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"PARITY_WORKSPACE={missing} is not a Parity workspace" in result.stderr
    assert "not stored" not in result.stderr
    # Without the variable and outside a workspace, capture still just prints.
    plain = run_parity("env", "capture", "--no-store", cwd=tmp_path)
    assert plain.returncode == 0, plain.stderr


def test_status_json_reports_the_stores(workspace_dir: Path) -> None:
    result = run_parity("status", "--json", cwd=workspace_dir)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["metadata"]["dialect"] == "sqlite"
    assert report["objects"]["url"].endswith(".parity/objects")
    assert report["records"] == {}


def test_status_table(workspace_dir: Path) -> None:
    result = run_parity("status", cwd=workspace_dir)
    assert result.returncode == 0
    assert "metadata" in result.stdout
    assert "No records yet." in result.stdout


def test_bad_usage_exits_2(tmp_path: Path) -> None:
    result = run_parity("status", "--no-such-flag", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == (
        "error: no such option '--no-such-flag' (see 'parity status --help')\n"
    )


def test_object_fsck_finds_a_flipped_byte(workspace_dir: Path) -> None:
    data = workspace_dir / "data.bin"
    data.write_bytes(b"x" * 5000)
    digest = run_parity("object", "put", str(data), cwd=workspace_dir).stdout.strip()
    ok = run_parity("object", "fsck", cwd=workspace_dir)
    assert ok.returncode == 0
    assert "checked 1 objects, 0 corrupt" in ok.stdout
    path = workspace_dir / ".parity" / "objects" / digest[:2] / digest[2:]
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    bad = run_parity("object", "verify", "--json", cwd=workspace_dir)  # the old spelling
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["corrupt"] == [digest]


def test_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "parity", "--version"], capture_output=True, text=True, check=True
    )
    assert result.stdout.startswith("parity 0.1.0")


def test_help_imports_no_heavy_library(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "parity", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert "parity" in imported
    for heavy in ("sqlalchemy", "alembic", "boto3", "botocore", "fastapi", "pandas", "sklearn"):
        assert heavy not in imported, f"parity --help imported {heavy}"


@pytest.mark.slow
def test_status_counts_runs_and_names_models_with_their_aliases(
    served_workspace: Workspace,
) -> None:
    from parity.api import runs

    with runs.start(experiment="status", workspace=served_workspace) as run:
        run.log_metric("loss", 0.5)
    with pytest.raises(RuntimeError), runs.start(experiment="status", workspace=served_workspace):
        raise RuntimeError("boom")
    root = served_workspace.root
    report = json.loads(run_parity("status", "--json", cwd=root).stdout)
    assert report["runs"] == {"finished": 1, "failed": 1}
    assert report["models"] == [{"name": "bc", "latest_version": 1, "aliases": {"production": 1}}]
    table = run_parity("status", cwd=root).stdout
    assert "Runs: 1 failed, 1 finished" in table
    assert "Model bc: latest version 1  @production → 1" in table
