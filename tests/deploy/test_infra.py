"""Infrastructure files in lineage: stored with each run, secrets never stored, changes shown."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from parity.api import infra, runs
from parity.core.secrets import REDACTED
from parity.deploy.globs import match_files
from parity.store.objects import open_object_store
from parity.workspace import open_workspace
from tests.conftest import run_parity

TERRAFORM = 'resource "aws_db_instance" "db" {\n  password = "hunter2"\n  size = "%s"\n}\n'


def _run(root: Path, *options: str) -> str:
    done = run_parity("run", *options, "--", sys.executable, "-c", "pass", cwd=root)
    assert done.returncode == 0, done.stderr
    return done.stderr.split("parity: run ", 1)[1].split()[0]


def _every_stored_byte(root: Path) -> bytes:
    """Every object of the workspace's store, decoded (zstd undone) and verified."""
    store = open_object_store(str(root / ".parity" / "objects"))
    return b"".join(store.get_bytes(digest) for digest in store.digests())


@pytest.fixture
def terraform(workspace_dir: Path) -> Path:
    (workspace_dir / "infra").mkdir()
    (workspace_dir / "infra" / "main.tf").write_text(TERRAFORM % "small")
    (workspace_dir / "Dockerfile").write_text("FROM python:3.11-slim\n")
    return workspace_dir


def test_a_terraform_password_is_never_stored_and_the_warning_names_it(terraform: Path) -> None:
    done = run_parity(
        "run", "--infra", "infra/**/*.tf", "--", sys.executable, "-c", "pass", cwd=terraform
    )
    assert done.returncode == 0, done.stderr
    assert "infra/main.tf: secret-looking values redacted before storing: password (line 2)" in (
        done.stderr
    )
    assert "hunter2" not in done.stderr
    stored = _every_stored_byte(terraform)
    assert b"hunter2" not in stored
    assert REDACTED.encode() in stored  # the file itself was stored, redacted
    run_id = done.stderr.split("parity: run ", 1)[1].split()[0]
    snapshot = infra.show(run_id, workspace=open_workspace(terraform, environ={}))
    assert [(f.path, f.redacted) for f in snapshot.files] == [("infra/main.tf", ("password",))]


def test_config_globs_are_stored_and_a_changed_file_shows_in_runs_compare(terraform: Path) -> None:
    config = terraform / ".parity" / "config.toml"
    config.write_text(config.read_text() + '\n[lineage]\ninfra = ["Dockerfile", "infra/**/*.tf"]\n')
    first = _run(terraform)
    (terraform / "infra" / "main.tf").write_text(TERRAFORM % "large")
    second = _run(terraform)
    compared = run_parity("runs", "compare", first, second, "--json", cwd=terraform)
    assert compared.returncode == 0, compared.stderr
    rows = {row["key"]: row for row in json.loads(compared.stdout)["infra"]}
    assert set(rows) == {"Dockerfile", "infra/main.tf"}
    assert rows["infra/main.tf"]["differs"]
    assert not rows["Dockerfile"]["differs"]
    shown = run_parity("runs", "compare", first, second, cwd=terraform)
    assert "infra/main.tf" in shown.stdout
    assert "Dockerfile" not in shown.stdout  # the same in both: only differences are shown
    assert "parity infra diff" in shown.stderr
    listed = run_parity("infra", "show", second, cwd=terraform)
    assert "infra/main.tf" in listed.stdout
    assert "password" in listed.stdout  # what was redacted, by name

    diffed = run_parity("infra", "diff", first, second, cwd=terraform)
    assert diffed.returncode == 0, diffed.stderr
    assert "modified: infra/main.tf" in diffed.stdout
    assert '-  size = "small"' in diffed.stdout
    assert '+  size = "large"' in diffed.stdout
    assert "hunter2" not in diffed.stdout
    as_json = json.loads(run_parity("infra", "diff", first, second, "--json", cwd=terraform).stdout)
    assert not as_json["identical"]
    assert [f["path"] for f in as_json["files"] if f["status"] == "modified"] == ["infra/main.tf"]


def test_refuse_policy_and_files_that_are_secrets_are_not_stored(terraform: Path) -> None:
    (terraform / "infra" / "terraform.tfstate").write_text('{"password": "statesecret"}')
    workspace = open_workspace(terraform, environ={})
    workspace.config = workspace.config.__class__.from_dict(
        {"lineage": {"infra": ["infra/*"], "infra_secrets": "refuse"}}
    )
    with (
        pytest.warns(UserWarning, match="not stored") as caught,
        runs.start(workspace=workspace) as run,
    ):
        pass
    messages = [str(w.message) for w in caught]
    assert any("infra/terraform.tfstate not stored: Terraform state" in m for m in messages)
    assert any("infra/main.tf not stored: it holds secret-looking values" in m for m in messages)
    snapshot = infra.show(run.id, workspace=workspace)
    assert snapshot.files == ()
    assert {r.path for r in snapshot.refused} == {"infra/main.tf", "infra/terraform.tfstate"}
    stored = _every_stored_byte(terraform)
    assert b"hunter2" not in stored
    assert b"statesecret" not in stored
    workspace.close()


def test_a_bad_pattern_records_no_run(workspace_dir: Path) -> None:
    done = run_parity(
        "run", "--infra", "../etc/*", "--", sys.executable, "-c", "pass", cwd=workspace_dir
    )
    assert done.returncode == 2
    assert "must be relative to the workspace root" in done.stderr
    listed = run_parity("runs", "list", "--json", cwd=workspace_dir)
    assert json.loads(listed.stdout) == []


def test_globs_match_across_folders_and_skip_the_stores(tmp_path: Path) -> None:
    for name in ("deploy/a.yaml", "deploy/x/b.yaml", "deploy/x/c.txt", ".parity/d.yaml", "e.yaml"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    assert match_files(tmp_path, ["deploy/**/*.yaml"]) == ["deploy/a.yaml", "deploy/x/b.yaml"]
    assert match_files(tmp_path, ["**/*.yaml"]) == ["deploy/a.yaml", "deploy/x/b.yaml", "e.yaml"]
    assert match_files(tmp_path, ["e.yaml", "missing.tf"]) == ["e.yaml"]
    outside = tmp_path.parent / "outside.yaml"
    outside.write_text("x")
    (tmp_path / "link.yaml").symlink_to(outside)
    assert "link.yaml" not in match_files(tmp_path, ["*.yaml"])
