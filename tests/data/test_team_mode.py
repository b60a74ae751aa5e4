"""The data commands in team mode: a real ``parity`` process whose workspace uses a live Parity
server backed by PostgreSQL and S3 (moto), and ``https://`` remotes on another server.

The client processes get no database URL and no AWS credentials: everything they store or read
goes through the server's routes.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from parity.api import data as data_api
from parity.core.roles import Role
from parity.data.versions import load_version
from parity.store.http.credentials import save_token
from parity.store.objects.s3 import parse_s3_url
from parity.workspace import open_workspace
from tests.conftest import run_parity
from tests.data._trees import build_tree, fingerprint, git, small_chunks
from tests.server.live import TeamServer, team_server

SCHEMA = """\
schema_type: dataframe
version: 0.35.0
columns:
  id:
    dtype: int64
  value:
    dtype: int64
"""


@pytest.fixture
def team(
    tmp_path: Path, postgres_url: str, s3_bucket: str, s3_endpoint: str
) -> Iterator[TeamServer]:
    with team_server(
        tmp_path / "served",
        metadata_url=postgres_url,
        objects_url=s3_bucket,
        s3_endpoint_url=s3_endpoint,
    ) as server:
        yield server


def _repo(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    assert run_parity("init", cwd=root).returncode == 0
    small_chunks(root)
    return root


def _parity(
    server: TeamServer, cwd: Path, *args: str, role: Role = Role.WRITER
) -> subprocess.CompletedProcess[str]:
    config = cwd.parent / "config"  # no credentials file unless a test writes one
    env = {**server.client_environment(role), "XDG_CONFIG_HOME": str(config)}
    return run_parity(*args, cwd=cwd, env=env)


def _ok(result: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert result.returncode == 0, result.stderr
    return result


def _stored_keys(bucket_url: str, endpoint: str) -> set[str]:
    bucket, prefix = parse_s3_url(bucket_url)
    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return {item["Key"][len(prefix) + 1 :] for page in pages for item in page.get("Contents", [])}


def _local_objects(root: Path) -> list[Path]:
    return [p for p in (root / ".parity" / "objects").rglob("*") if p.is_file()]


def test_add_status_checkout_log_and_validate_through_the_server(
    team: TeamServer, tmp_path: Path, s3_bucket: str, s3_endpoint: str
) -> None:
    repo = _repo(tmp_path / "repo")
    data = repo / "data"
    data.mkdir()
    build_tree(data)
    original = fingerprint(data)

    refused = _parity(team, repo, "data", "add", "data", role=Role.READER)
    assert refused.returncode == 2
    assert "needs the writer role" in refused.stderr

    added = json.loads(_ok(_parity(team, repo, "data", "add", "data", "--json")).stdout)[0]
    version = added["data_version"]
    assert added["files"] == 5
    assert f"{version[:2]}/{version[2:]}" in _stored_keys(s3_bucket, s3_endpoint)
    assert _local_objects(repo) == []  # nothing was stored on the client
    status = _ok(_parity(team, repo, "data", "status", role=Role.READER))
    assert status.stdout.startswith("data: up to date")
    again = json.loads(_ok(_parity(team, repo, "data", "add", "data", "--json")).stdout)[0]
    assert again["data_version"] == version
    assert again["chunks_new"] == 0  # the server's chunk index knew every chunk

    git(repo, "add", "data.parity", ".gitignore", ".parity/config.toml")
    git(repo, "commit", "-q", "-m", "data")
    shutil.rmtree(data)
    _ok(_parity(team, repo, "data", "checkout", role=Role.READER))
    assert fingerprint(data) == original
    log = json.loads(_ok(_parity(team, repo, "data", "log", "data", "--json")).stdout)
    assert [entry["data_version"] for entry in log] == [version]

    # Another clone using the same server checks the data out with no push or pull.
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    _ok(_parity(team, clone, "data", "checkout", role=Role.READER))
    assert fingerprint(clone / "data") == original

    (repo / "schema.yaml").write_text(SCHEMA)
    validate = ("data", "validate", "data/a.csv", "--schema", "schema.yaml", "--json")
    verdict = json.loads(_ok(_parity(team, repo, *validate)).stdout)
    assert verdict["ok"] is True
    assert verdict["versioned"] is True
    assert verdict["data_version"] == version
    workspace = open_workspace(repo, environ=team.client_environment(Role.READER))
    try:
        recorded = data_api.validations(version, workspace=workspace)
    finally:
        workspace.close()
    assert [(record_id, v.ok) for record_id, v in recorded] == [(verdict["record"], True)]


def _two_versions(team: TeamServer, repo: Path) -> tuple[str, str]:
    """Add ``data`` twice through the server, commit the second version's pointer only."""
    data = repo / "data"
    data.mkdir()
    build_tree(data)
    first = json.loads(_ok(_parity(team, repo, "data", "add", "data", "--json")).stdout)[0]
    (data / "a.csv").write_text("id,value\n1,3\n")
    second = json.loads(_ok(_parity(team, repo, "data", "add", "data", "--json")).stdout)[0]
    git(repo, "add", "data.parity", ".gitignore", ".parity/config.toml")
    git(repo, "commit", "-q", "-m", "data")
    return first["data_version"], second["data_version"]


def test_push_and_pull_through_an_https_remote(team: TeamServer, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    _, version = _two_versions(team, repo)
    wanted = fingerprint(repo / "data")
    with team_server(tmp_path / "remote") as remote:
        # The remote's token comes from the credentials file: PARITY_TOKEN is the team
        # server's, and is never sent to another server.
        save_token(remote.url, remote.writer, environ={"XDG_CONFIG_HOME": str(tmp_path / "config")})
        _ok(_parity(team, repo, "remote", "add", "origin", remote.url))
        git(repo, "commit", "-q", "-am", "remote")
        pushed = json.loads(_ok(_parity(team, repo, "data", "push", "--json")).stdout)
        assert pushed["ok"] is True
        assert pushed["done"] > 0
        assert pushed["versions"] == [version]
        remote_objects = tmp_path / "remote" / ".parity" / "objects"
        assert (remote_objects / version[:2] / version[2:]).is_file()

        # An embedded clone pulls from the remote with PARITY_TOKEN (no server of its own).
        clone = tmp_path / "clone"
        git(tmp_path, "clone", "-q", str(repo), str(clone))
        env = {"PARITY_TOKEN": remote.reader, "XDG_CONFIG_HOME": str(tmp_path / "empty")}
        pulled = run_parity("data", "pull", "--json", cwd=clone, env=env)
        assert pulled.returncode == 0, pulled.stderr
        assert fingerprint(clone / "data") == wanted
        (clone / "data" / "a.csv").write_text("id,value\n1,4\n")
        assert run_parity("data", "add", "data", cwd=clone, env=env).returncode == 0
        reader_push = run_parity("data", "push", cwd=clone, env=env)
        assert reader_push.returncode == 5  # a transfer that failed, with its cause
        assert "it needs the writer role" in reader_push.stderr


def test_gc_and_fsck_through_the_server(team: TeamServer, tmp_path: Path) -> None:
    repo = _repo(tmp_path / "repo")
    first, _ = _two_versions(team, repo)
    wanted = fingerprint(repo / "data")
    plan = json.loads(_ok(_parity(team, repo, "data", "gc", "--json")).stdout)
    assert plan["delete_versions"] == [first]
    assert plan["deleted"] is False
    refused = _parity(team, repo, "data", "gc", "--yes")
    assert refused.returncode == 2
    assert "needs the admin role" in refused.stderr
    gc = ("data", "gc", "--yes", "--json")
    done = json.loads(_ok(_parity(team, repo, *gc, role=Role.ADMIN)).stdout)
    assert done["deleted"] is True
    assert done["delete_versions"] == [first]
    again = json.loads(_ok(_parity(team, repo, "data", "gc", "--json")).stdout)
    assert again["delete_versions"] == []

    fsck = json.loads(_ok(_parity(team, repo, "data", "fsck", "--json", role=Role.ADMIN)).stdout)
    assert fsck["ok"] is True
    assert fsck["checked"] >= 2
    shutil.rmtree(repo / "data")
    _ok(_parity(team, repo, "data", "checkout"))
    assert fingerprint(repo / "data") == wanted


def test_a_team_workspace_pulls_from_a_folder_remote_into_the_server(
    team: TeamServer, tmp_path: Path, s3_bucket: str, s3_endpoint: str
) -> None:
    repo = _repo(tmp_path / "repo")
    (repo / "data").mkdir()
    build_tree(repo / "data")
    shared = tmp_path / "shared"
    embedded = {"XDG_CONFIG_HOME": str(tmp_path / "empty")}
    added = run_parity("data", "add", "data", "--json", cwd=repo, env=embedded)
    assert added.returncode == 0, added.stderr
    version = json.loads(added.stdout)[0]["data_version"]
    assert run_parity("remote", "add", "origin", str(shared), cwd=repo).returncode == 0
    assert run_parity("data", "push", cwd=repo, env=embedded).returncode == 0
    git(repo, "add", "data.parity", ".gitignore", ".parity/config.toml")
    git(repo, "commit", "-q", "-m", "data")

    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(repo), str(clone))
    _ok(_parity(team, clone, "data", "pull"))
    assert fingerprint(clone / "data") == fingerprint(repo / "data")
    assert f"{version[:2]}/{version[2:]}" in _stored_keys(s3_bucket, s3_endpoint)
    assert _local_objects(clone) == []
    # Indexed on the server: the version is a data record there, and its chunks are found.
    workspace = open_workspace(clone, environ=team.client_environment(Role.READER))
    try:
        chunks = {
            c.digest for f in load_version(workspace.objects, version).files for c in f.chunks
        }
        assert workspace.records.meta.record_kind(version) == "data"
        assert set(workspace.chunk_index.locate(chunks)) == chunks
    finally:
        workspace.close()


def test_an_embedded_workspace_pushes_to_and_pulls_from_a_server_remote(tmp_path: Path) -> None:
    """In process, through the API: the remote's client is closed when the transfer ends."""
    from parity.api import remotes
    from parity.workspace import init_workspace

    with team_server(tmp_path / "remote") as remote:
        here, _ = init_workspace(tmp_path / "here", environ={"PARITY_TOKEN": remote.writer})
        here.environ_token = remote.writer
        (here.root / "data").mkdir()
        build_tree(here.root / "data")
        added = data_api.add(here.root / "data", workspace=here)
        remotes.add("origin", remote.url, workspace=here)
        pushed = data_api.push(workspace=here)
        assert pushed.result.ok
        assert pushed.versions == (added.data_version,)

        there, _ = init_workspace(tmp_path / "there", environ={})
        there.environ_token = remote.reader
        shutil.copy(here.root / "data.parity", there.root / "data.parity")
        remotes.add("origin", remote.url, workspace=there)
        pulled = data_api.pull(workspace=there)
        assert pulled.result.ok
        assert set(pulled.result.done) == set(pushed.result.done)
        assert fingerprint(there.root / "data") == fingerprint(here.root / "data")
        assert there.meta.record_kind(added.data_version) == "data"  # indexed here
        here.close()
        there.close()
